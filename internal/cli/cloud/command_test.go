package cloud

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe output sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServePrintsEndpointsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	cmd := NewCommand(ctx)
	var out, errOut syncBuffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"serve", "--world", "../../../examples/world.yaml", "--data-dir", dir, "--listen", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- cmd.Execute() }()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "admin API") {
		if time.Now().After(deadline) {
			t.Fatalf("no endpoints printed; stdout %q stderr %q", out.String(), errOut.String())
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v; stderr %q", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	text := out.String()
	for _, want := range []string{
		"CA bundle      " + filepath.Join(dir, "ca.pem"),
		"tenant contoso    2e319086-9a26-46a3-865f-615bed576786",
		"IMDS           aks-system-12583646-vmss_0",
		"IMDS           aks-system-12583646-vmss_1",
		"Key Vault      kv-westus2-aks",
		"admin API      ",
		"Authorization: Bearer $(cat " + filepath.Join(dir, "admin-token") + ")",
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("output lacks %q:\n%s", want, text)
		}
	}
	health := regexp.MustCompile(`health\s+(\S+)`).FindStringSubmatch(text)[1]
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(health)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
	if !strings.Contains(out.String(), "embedded cloud stopped") {
		t.Fatalf("no stop line: %s", out.String())
	}
}

func TestServeRefusesBadWorld(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "w.yaml")
	if err := os.WriteFile(bad, []byte("tenants:\n  - id: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := NewCommand(context.Background())
	cmd.SetOut(&syncBuffer{})
	cmd.SetErr(&syncBuffer{})
	cmd.SetArgs([]string{"serve", "--world", bad, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "w.yaml:2: tenants[0].id: \"nope\" is not a GUID") {
		t.Fatalf("error = %v", err)
	}
}

func TestValidateRefusesNonLoopback(t *testing.T) {
	o := NewOptions()
	o.Listen = "0.0.0.0:8443"
	if err := o.Validate(); err == nil {
		t.Fatal("0.0.0.0 accepted")
	}
}
