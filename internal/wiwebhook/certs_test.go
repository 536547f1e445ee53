package wiwebhook

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var (
	t0        = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	testLife  = Lifetimes{CA: 300 * 24 * time.Hour, Leaf: 30 * 24 * time.Hour}
	testHosts = []string{"podid-wi-webhook.kube-system.svc", "127.0.0.1"}
)

func mustIssue(t *testing.T, now time.Time, c *certs, renewCA bool, hosts []string) *certs {
	t.Helper()
	next, err := issue(now, rand.Reader, c, renewCA, hosts, testLife)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func TestRenewal(t *testing.T) {
	fresh := mustIssue(t, t0, nil, true, testHosts)
	otherCA := mustIssue(t, t0, nil, true, testHosts)
	// A leaf another CA signed, stored beside this CA.
	mixed := *fresh
	mixed.leaf = otherCA.leaf
	tests := map[string]struct {
		now        time.Time
		certs      *certs
		hosts      []string
		wantCA     bool
		wantLeaf   bool
		wantReason string
	}{
		"no Secret yet":                         {now: t0, certs: nil, hosts: testHosts, wantCA: true, wantLeaf: true, wantReason: ReasonUnreadable},
		"a Secret without usable data":          {now: t0, certs: parseCerts(map[string][]byte{"ca.crt": []byte("junk")}), hosts: testHosts, wantCA: true, wantLeaf: true, wantReason: ReasonUnreadable},
		"just issued":                           {now: t0, certs: fresh, hosts: testHosts},
		"leaf at half its life is kept":         {now: t0.Add(15 * 24 * time.Hour), certs: fresh, hosts: testHosts},
		"leaf with under a third left":          {now: t0.Add(21 * 24 * time.Hour), certs: fresh, hosts: testHosts, wantLeaf: true, wantReason: ReasonLeafExpiring},
		"leaf expired":                          {now: t0.Add(31 * 24 * time.Hour), certs: fresh, hosts: testHosts, wantLeaf: true, wantReason: ReasonLeafUnreadable},
		"CA with under a third left":            {now: t0.Add(201 * 24 * time.Hour), certs: fresh, hosts: testHosts, wantCA: true, wantLeaf: true, wantReason: ReasonCAExpiring},
		"CA expired":                            {now: t0.Add(301 * 24 * time.Hour), certs: fresh, hosts: testHosts, wantCA: true, wantLeaf: true, wantReason: ReasonUnreadable},
		"a host was added":                      {now: t0, certs: fresh, hosts: append([]string{"extra.example"}, testHosts...), wantLeaf: true, wantReason: ReasonHostsChanged},
		"same hosts in another order and twice": {now: t0, certs: fresh, hosts: []string{"127.0.0.1", testHosts[0], "127.0.0.1"}},
		"leaf not signed by the stored CA":      {now: t0, certs: &mixed, hosts: testHosts, wantLeaf: true, wantReason: ReasonLeafUnreadable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ca, leaf, reason := renewal(tc.now, tc.certs, tc.hosts)
			if ca != tc.wantCA || leaf != tc.wantLeaf || reason != tc.wantReason {
				t.Errorf("renewal = (CA %v, leaf %v, %q), want (CA %v, leaf %v, %q)", ca, leaf, reason, tc.wantCA, tc.wantLeaf, tc.wantReason)
			}
		})
	}
}

// TestCARolloverKeepsOldReplicasTrusted: after a CA renewal the bundle
// trusts both the new certificate and one a replica still serves from the
// old CA, and stops trusting the old CA once it expired.
func TestCARolloverKeepsOldReplicasTrusted(t *testing.T) {
	old := mustIssue(t, t0, nil, true, testHosts)
	renewAt := t0.Add(201 * 24 * time.Hour)
	next := mustIssue(t, renewAt, parseCerts(old.secretData()), true, testHosts)
	stillServed := mustIssue(t, renewAt.Add(-time.Hour), old, false, testHosts) // an old replica's leaf

	bundle := next.caBundle(renewAt)
	for name, leaf := range map[string]*x509.Certificate{"new": next.leaf, "old replica's": stillServed.leaf} {
		if err := verify(bundle, leaf, renewAt); err != nil {
			t.Errorf("%s certificate not trusted by the bundle: %v", name, err)
		}
	}
	if after := next.caBundle(t0.Add(301 * 24 * time.Hour)); verify(after, stillServed.leaf, renewAt) == nil {
		t.Error("the bundle still trusts the old CA after it expired")
	}
	// The Secret round trip keeps the previous CA.
	if got := parseCerts(next.secretData()).caBundle(renewAt); string(got) != string(bundle) {
		t.Error("the previous CA is lost when the Secret is read back")
	}
}

func verify(bundle []byte, leaf *x509.Certificate, now time.Time) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(bundle)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, DNSName: testHosts[0]})
	return err
}

// TestIssuedCertificateServesTLS: a client trusting only the bundle
// connects by IP address to a server using the issued pair.
func TestIssuedCertificateServesTLS(t *testing.T) {
	c := mustIssue(t, time.Now(), nil, true, testHosts)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*c.leafPair}}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.caBundle(time.Now()))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	resp, err := client.Get("https://127.0.0.1:" + port)
	if err != nil {
		t.Fatalf("TLS with the issued certificate: %v", err)
	}
	resp.Body.Close()
}

func TestAuthorityHostFor(t *testing.T) {
	tests := map[string]struct{ cloud, want string }{
		"unset is the public cloud":    {"", "https://login.microsoftonline.com/"},
		"public cloud":                 {"AzurePublicCloud", "https://login.microsoftonline.com/"},
		"names are case-insensitive":   {"azurechinacloud", "https://login.chinacloudapi.cn/"},
		"US government":                {"AzureUSGovernmentCloud", "https://login.microsoftonline.us/"},
		"an unknown cloud is an error": {"AzureMoonCloud", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AuthorityHostFor(tc.cloud)
			if got != tc.want || (err != nil) != (tc.want == "") {
				t.Errorf("AuthorityHostFor(%q) = %q, %v; want %q", tc.cloud, got, err, tc.want)
			}
		})
	}
}
