package tokens

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- x5t is defined as the SHA-1 thumbprint
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// CertificateFunc returns an identity's certificate chain (leaf first) and
// RSA private key.
type CertificateFunc func(ctx context.Context, id Identity) ([]*x509.Certificate, *rsa.PrivateKey, error)

type certSource struct {
	aad  *aadClient
	cert CertificateFunc
}

var _ TokenSource = (*certSource)(nil)

// NewCertificate returns a source for service principals with a
// certificate (AzureIdentity type 2): the client assertion is a JWT signed
// with the certificate's key (RS256, x5t header), as MSAL builds it.
func NewCertificate(opts AADOptions, cert CertificateFunc) (TokenSource, error) {
	a, err := newAADClient(opts)
	if err != nil {
		return nil, fmt.Errorf("certificate source: %w", err)
	}
	return &certSource{aad: a, cert: cert}, nil
}

func (s *certSource) Token(ctx context.Context, req Request) (Token, error) {
	endpoint, err := s.aad.tokenEndpoint(req.Identity)
	if err != nil {
		return Token{}, err
	}
	chain, key, err := s.cert(ctx, req.Identity)
	if err != nil {
		return Token{}, fmt.Errorf("get certificate of %s: %w", req.Identity.Name, err)
	}
	if len(chain) == 0 || key == nil {
		return Token{}, fmt.Errorf("certificate of %s: no certificate or key", req.Identity.Name)
	}
	assertion, err := signAssertion(chain[0], key, req.Identity.ClientID, endpoint, s.aad.now())
	if err != nil {
		return Token{}, fmt.Errorf("sign assertion for %s: %w", req.Identity.Name, err)
	}
	return s.aad.post(ctx, endpoint, req, assertionForm(assertion))
}

func assertionForm(assertion string) url.Values {
	return url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
}

// signAssertion builds the client assertion JWT for AAD.
func signAssertion(cert *x509.Certificate, key *rsa.PrivateKey, clientID, audience string, now time.Time) (string, error) {
	thumb := sha1.Sum(cert.Raw) // #nosec G401 -- see import
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(thumb[:])})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"aud": audience, "iss": clientID, "sub": clientID, "jti": hex.EncodeToString(jti),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding.EncodeToString
	signed := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signed + "." + enc(sig), nil
}

// ParseCertificatePEM reads certificates and an RSA private key (PKCS#1 or
// PKCS#8) from PEM data, as a certificate Secret holds them.
func ParseCertificatePEM(data []byte) ([]*x509.Certificate, *rsa.PrivateKey, error) {
	var chain []*x509.Certificate
	var key *rsa.PrivateKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("parse certificate: %w", err)
			}
			chain = append(chain, c)
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("parse private key: %w", err)
			}
			key = k
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("parse private key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, errors.New("private key is not RSA")
			}
			key = rk
		}
	}
	if len(chain) == 0 || key == nil {
		return nil, nil, errors.New("PEM data needs a CERTIFICATE and an RSA private key")
	}
	return chain, key, nil
}
