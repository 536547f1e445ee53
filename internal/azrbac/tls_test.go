package azrbac_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/podid/podid/internal/azrbac"
)

func tlsConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func tlsCertOrFail(t *testing.T) tls.Certificate {
	t.Helper()
	cert, _, err := azrbac.SelfSignedCert([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
