package azrbac

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	"sigs.k8s.io/yaml"
)

// servingCertLifetime is how long a self-signed serving certificate lasts.
const servingCertLifetime = 365 * 24 * time.Hour

// SelfSignedCert issues a self-signed P-256 serving certificate for hosts
// (IP addresses or DNS names), valid from now for a year, and returns it
// with its PEM, which is also the CA kube-apiserver must trust.
func SelfSignedCert(hosts []string, now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate webhook serving key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "podid-azure-rbac-webhook"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(servingCertLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create webhook serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("encode webhook serving key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("load webhook serving certificate: %w", err)
	}
	return cert, certPEM, nil
}

// WebhookKubeconfig is the file kube-apiserver's
// --authorization-webhook-config-file (or an AuthorizationConfiguration's
// connectionInfo.kubeConfigFile) names: the webhook's URL and the CA that
// signed its serving certificate.
func WebhookKubeconfig(url string, caPEM []byte) ([]byte, error) {
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "webhook",
		"clusters": []any{map[string]any{"name": "azure-rbac", "cluster": map[string]any{
			"server": url, "certificate-authority-data": caPEM}}},
		"users":    []any{map[string]any{"name": "kube-apiserver", "user": map[string]any{}}},
		"contexts": []any{map[string]any{"name": "webhook", "context": map[string]any{"cluster": "azure-rbac", "user": "kube-apiserver"}}},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode webhook kubeconfig: %w", err)
	}
	return out, nil
}
