package wiwebhook

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Keys of the certificate Secret. The leaf uses the kubernetes.io/tls keys,
// so the Secret also works as a TLS Secret.
const (
	secretCACert     = "ca.crt"
	secretCAKey      = "ca.key"
	secretPreviousCA = "ca-previous.crt"
	secretCert       = corev1.TLSCertKey
	secretKey        = corev1.TLSPrivateKeyKey
)

// Lifetimes are how long the certificates the webhook issues itself are
// valid. Each is renewed once less than a third of its lifetime is left.
type Lifetimes struct {
	// CA signs the serving certificate; its certificate is the caBundle.
	CA time.Duration
	// Leaf is the serving certificate; at most CA.
	Leaf time.Duration
}

// DefaultLifetimes renew the serving certificate monthly and the CA every
// eight months; a renewed CA is trusted beside the old one until the old
// one expires, so no replica's certificate is ever untrusted.
var DefaultLifetimes = Lifetimes{CA: 365 * 24 * time.Hour, Leaf: 90 * 24 * time.Hour}

// Renewal reasons, as logged.
const (
	// ReasonUnreadable: the Secret is missing or does not hold a usable CA.
	ReasonUnreadable = "NoUsableCA"
	// ReasonCAExpiring: less than a third of the CA's lifetime is left.
	ReasonCAExpiring = "CAExpiring"
	// ReasonLeafUnreadable: no serving certificate issued by the CA.
	ReasonLeafUnreadable = "NoUsableCertificate"
	// ReasonLeafExpiring: less than a third of the certificate's lifetime is left.
	ReasonLeafExpiring = "CertificateExpiring"
	// ReasonHostsChanged: the certificate names other hosts than configured.
	ReasonHostsChanged = "HostsChanged"
)

// certs is what the Secret holds, parsed and as PEM.
type certs struct {
	ca       *x509.Certificate
	caKey    crypto.Signer
	caPEM    []byte
	caKeyPEM []byte
	// previous is the PEM of the CA before the last renewal, kept in the
	// caBundle while it is valid.
	previous []byte
	// leaf is the serving certificate; leafPair is it with its key and the
	// CA as chain, ready for tls.Config.
	leaf       *x509.Certificate
	leafPair   *tls.Certificate
	leafPEM    []byte
	leafKeyPEM []byte
}

// renewal decides what to issue: renewCA implies renewLeaf. reason is ""
// when the certificates in c (nil: none) can stay.
func renewal(now time.Time, c *certs, hosts []string) (renewCA, renewLeaf bool, reason string) {
	switch {
	case c == nil || c.ca == nil || c.caKey == nil || now.After(c.ca.NotAfter):
		return true, true, ReasonUnreadable
	case closeToExpiry(now, c.ca):
		return true, true, ReasonCAExpiring
	case c.leaf == nil || c.leaf.CheckSignatureFrom(c.ca) != nil || now.After(c.leaf.NotAfter):
		return false, true, ReasonLeafUnreadable
	case closeToExpiry(now, c.leaf):
		return false, true, ReasonLeafExpiring
	case !sameHosts(c.leaf, hosts):
		return false, true, ReasonHostsChanged
	}
	return false, false, ""
}

// closeToExpiry: less than a third of the certificate's lifetime is left.
func closeToExpiry(now time.Time, cert *x509.Certificate) bool {
	life := cert.NotAfter.Sub(cert.NotBefore)
	return cert.NotAfter.Sub(now) < life/3
}

func sameHosts(leaf *x509.Certificate, hosts []string) bool {
	var have []string
	have = append(have, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		have = append(have, ip.String())
	}
	want := slices.Clone(hosts)
	slices.Sort(have)
	slices.Sort(want)
	return slices.Equal(have, slices.Compact(want))
}

// issue returns c with a new leaf, and a new CA first when renewCA; the CA
// it replaces stays trusted (previous) while it is valid.
func issue(now time.Time, random io.Reader, c *certs, renewCA bool, hosts []string, life Lifetimes) (*certs, error) {
	if len(hosts) == 0 {
		return nil, errors.New("issue certificate: no host names")
	}
	next := &certs{}
	if c != nil && !renewCA {
		next.ca, next.caKey, next.caPEM, next.caKeyPEM, next.previous = c.ca, c.caKey, c.caPEM, c.caKeyPEM, c.previous
	} else {
		if c != nil && c.ca != nil && now.Before(c.ca.NotAfter) {
			next.previous = c.caPEM
		}
		key, keyPEM, err := newKey(random)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{CommonName: "podid-wi-webhook-ca", Organization: []string{"podid"}},
			NotBefore:             now.Add(-backdate(life.CA)),
			NotAfter:              now.Add(life.CA),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		}
		cert, certPEM, err := sign(random, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, fmt.Errorf("issue CA: %w", err)
		}
		next.ca, next.caKey, next.caPEM, next.caKeyPEM = cert, key, certPEM, keyPEM
	}
	key, keyPEM, err := newKey(random)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		NotBefore:   now.Add(-backdate(life.Leaf)),
		NotAfter:    minTime(now.Add(life.Leaf), next.ca.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range slices.Compact(slices.Sorted(slices.Values(hosts))) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	leaf, leafPEM, err := sign(random, tmpl, next.ca, key.Public(), next.caKey)
	if err != nil {
		return nil, fmt.Errorf("issue serving certificate: %w", err)
	}
	pair, err := tls.X509KeyPair(append(slices.Clone(leafPEM), next.caPEM...), keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load serving certificate: %w", err)
	}
	next.leaf, next.leafPair, next.leafPEM, next.leafKeyPEM = leaf, &pair, leafPEM, keyPEM
	return next, nil
}

// caBundle is what the API server must trust: the CA and, while valid, the
// one before it.
func (c *certs) caBundle(now time.Time) []byte {
	b := slices.Clone(c.caPEM)
	if len(c.previous) > 0 {
		if prev, err := parseCert(c.previous); err == nil && now.Before(prev.NotAfter) {
			b = append(b, c.previous...)
		}
	}
	return b
}

// secretData is c as the Secret stores it.
func (c *certs) secretData() map[string][]byte {
	d := map[string][]byte{
		secretCACert: c.caPEM, secretCAKey: c.caKeyPEM,
		secretCert: c.leafPEM, secretKey: c.leafKeyPEM,
	}
	if len(c.previous) > 0 {
		d[secretPreviousCA] = c.previous
	}
	return d
}

// parseCerts reads a Secret's data. What cannot be parsed is left nil, for
// renewal to replace; it is never an error.
func parseCerts(data map[string][]byte) *certs {
	c := &certs{previous: data[secretPreviousCA]}
	if ca, err := parseCert(data[secretCACert]); err == nil {
		if key, err := parseKey(data[secretCAKey]); err == nil {
			c.ca, c.caKey, c.caPEM, c.caKeyPEM = ca, key, data[secretCACert], data[secretCAKey]
		}
	}
	if leaf, err := parseCert(data[secretCert]); err == nil {
		if pair, err := tls.X509KeyPair(append(slices.Clone(data[secretCert]), c.caPEM...), data[secretKey]); err == nil {
			c.leaf, c.leafPair, c.leafPEM, c.leafKeyPEM = leaf, &pair, data[secretCert], data[secretKey]
		}
	}
	return c
}

func newKey(random io.Reader) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), random)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func sign(random io.Reader, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, []byte, error) {
	serial, err := randSerial(random)
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(random, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func randSerial(random io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, fmt.Errorf("read serial number: %w", err)
	}
	return new(big.Int).SetBytes(b), nil
}

func parseCert(p []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(p)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKey(p []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(p)
	if block == nil {
		return nil, errors.New("no PEM key")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key of type %T cannot sign", key)
	}
	return signer, nil
}

// backdate is how far before now a certificate becomes valid, for clocks
// a little behind: an hour, or a tenth of a short lifetime.
func backdate(life time.Duration) time.Duration { return min(time.Hour, life/10) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
