package cloud

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names inside the state directory.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca-key.pem"
	signingKeyFile = "signing-key.pem"
	stateFile      = "state.json"
)

// pki holds the CA, the server certificate and the token signing key.
type pki struct {
	caCert     *x509.Certificate
	caKey      crypto.Signer
	caPEM      []byte
	serverCert tls.Certificate
	signKey    *rsa.PrivateKey
	kid        string
}

// loadPKI loads or creates the CA and signing key in dir (nothing is written
// when dir is empty), then issues a fresh server certificate for hosts.
func loadPKI(dir string, signKey *rsa.PrivateKey, hosts []string) (*pki, error) {
	p := &pki{}
	if err := p.loadOrCreateCA(dir); err != nil {
		return nil, err
	}
	if signKey == nil {
		k, err := loadOrCreateRSA(dir)
		if err != nil {
			return nil, err
		}
		signKey = k
	}
	p.signKey = signKey
	p.kid = keyID(&signKey.PublicKey)
	if err := p.issueServerCert(hosts); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pki) loadOrCreateCA(dir string) error {
	if dir != "" {
		certPEM, err1 := os.ReadFile(filepath.Join(dir, caCertFile))
		keyPEM, err2 := os.ReadFile(filepath.Join(dir, caKeyFile))
		if err1 == nil && err2 == nil {
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return fmt.Errorf("load CA from %s: %w", dir, err)
			}
			cert, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				return fmt.Errorf("parse CA certificate: %w", err)
			}
			p.caCert, p.caKey, p.caPEM = cert, pair.PrivateKey.(crypto.Signer), certPEM
			return nil
		}
		if !errors.Is(err1, fs.ErrNotExist) && err1 != nil {
			return fmt.Errorf("read CA certificate: %w", err1)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "podid embedded cloud CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create CA certificate: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	p.caCert, p.caKey = cert, key
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if dir == "" {
		return nil
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal CA key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write CA key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, caCertFile), p.caPEM, 0o644); err != nil { //nolint:gosec // a CA bundle is public.
		return fmt.Errorf("write CA bundle: %w", err)
	}
	return nil
}

func loadOrCreateRSA(dir string) (*rsa.PrivateKey, error) {
	path := filepath.Join(dir, signingKeyFile)
	if dir != "" {
		if b, err := os.ReadFile(path); err == nil {
			blk, _ := pem.Decode(b)
			if blk == nil {
				return nil, fmt.Errorf("read signing key %s: no PEM block", path)
			}
			k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse signing key %s: %w", path, err)
			}
			return k, nil
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	if dir != "" {
		b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write signing key: %w", err)
		}
	}
	return k, nil
}

func (p *pki) issueServerCert(hosts []string) error {
	dnsNames := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else if h != "" {
			dnsNames = append(dnsNames, h)
		}
	}
	cert, err := p.issueLeaf("podid embedded cloud", dnsNames, ips)
	if err != nil {
		return err
	}
	p.serverCert = cert
	return nil
}

// issueLeaf signs a fresh one-year server certificate for dnsNames and ips
// with the CA; the chain it returns carries the CA so clients that trust the
// CA need nothing else.
func (p *pki) issueLeaf(commonName string, dnsNames []string, ips []net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key for %s: %w", commonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate for %s: %w", commonName, err)
	}
	return tls.Certificate{Certificate: [][]byte{der, p.caCert.Raw}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// keyID is base64url(SHA-256(PKIX DER)) of the public key.
func keyID(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
