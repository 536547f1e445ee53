package controlplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate and its key, PEM encoded.
type keyPair struct {
	cert     *x509.Certificate
	key      crypto.Signer
	certPEM  []byte
	keyPEM   []byte
	certFile string
	keyFile  string
}

// pki is every credential one control plane needs.
type pki struct {
	ca      keyPair
	serving keyPair
	admin   keyPair
	// kubeletClient is the apiserver's identity towards kubelets (logs,
	// exec, port-forward), which authorize it through the API.
	kubeletClient keyPair
	saKeyPEM      []byte // RSA private key signing service-account tokens
	saPubPEM      []byte
	saKey         string
	saPub         string
}

func newPKI(dir string, now time.Time) (*pki, error) {
	ca, err := newCert(certRequest{cn: "podid-ca", isCA: true}, nil, now)
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	serving, err := newCert(certRequest{
		cn:    "kube-apiserver",
		ips:   []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		dns:   []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, &ca, now)
	if err != nil {
		return nil, fmt.Errorf("create serving certificate: %w", err)
	}
	admin, err := newCert(certRequest{
		cn: "podid-admin", org: []string{"system:masters"},
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &ca, now)
	if err != nil {
		return nil, fmt.Errorf("create admin client certificate: %w", err)
	}
	kubeletClient, err := newCert(certRequest{
		cn: "kube-apiserver-kubelet-client", org: []string{"system:masters"},
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &ca, now)
	if err != nil {
		return nil, fmt.Errorf("create kubelet client certificate: %w", err)
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("create service-account signing key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode service-account public key: %w", err)
	}
	p := &pki{
		ca: ca, serving: serving, admin: admin, kubeletClient: kubeletClient,
		saKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		saPubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
	}
	return p, p.write(dir)
}

func (p *pki) write(dir string) error {
	files := []struct {
		kp   *keyPair
		name string
	}{{&p.ca, "ca"}, {&p.serving, "apiserver"}, {&p.admin, "admin"}, {&p.kubeletClient, "apiserver-kubelet-client"}}
	for _, f := range files {
		f.kp.certFile = filepath.Join(dir, f.name+".crt")
		f.kp.keyFile = filepath.Join(dir, f.name+".key")
		if err := os.WriteFile(f.kp.certFile, f.kp.certPEM, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.kp.certFile, err)
		}
		if err := os.WriteFile(f.kp.keyFile, f.kp.keyPEM, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", f.kp.keyFile, err)
		}
	}
	p.saKey = filepath.Join(dir, "sa.key")
	p.saPub = filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(p.saKey, p.saKeyPEM, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p.saKey, err)
	}
	if err := os.WriteFile(p.saPub, p.saPubPEM, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p.saPub, err)
	}
	return nil
}

type certRequest struct {
	cn    string
	org   []string
	ips   []net.IP
	dns   []string
	usage []x509.ExtKeyUsage
	isCA  bool
}

// newCert issues a P-256 certificate valid for a year, signed by parent
// (self-signed when parent is nil).
func newCert(req certRequest, parent *keyPair, now time.Time) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return keyPair{}, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: req.cn, Organization: req.org},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  req.usage,
		IPAddresses:  req.ips,
		DNSNames:     req.dns,
	}
	signerCert, signerKey := tmpl, crypto.Signer(key)
	if req.isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("sign certificate %s: %w", req.cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, fmt.Errorf("parse certificate %s: %w", req.cn, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return keyPair{}, fmt.Errorf("encode key %s: %w", req.cn, err)
	}
	return keyPair{
		cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}
