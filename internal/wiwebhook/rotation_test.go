package wiwebhook_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// TestCertificateSharedAndRotated runs two replicas on one Secret with
// lifetimes of seconds, and creates a labelled pod every 200 ms while their
// serving certificate and then their CA are renewed: the replicas serve the
// same certificate, the caBundle follows the CA, and the API server refuses
// no pod at any time.
func TestCertificateSharedAndRotated(t *testing.T) {
	e := cluster(t)
	ctx := context.Background()
	ns := e.NewNamespace(t)
	life := wiwebhook.Lifetimes{CA: 40 * time.Second, Leaf: 12 * time.Second}
	// Replicas first: they create the Secret, and they skip configurations
	// that do not exist yet; the next pass publishes the caBundle.
	a := startReplica(t, e, ns, "wi-rotation", life, 500*time.Millisecond)
	b := startReplica(t, e, ns, "wi-rotation", life, 500*time.Millisecond)
	register(t, e, "wi-rotation", "https://"+a.addr, ns)
	serviceAccount(t, e, ns, "workload", map[string]string{wi.ClientIDAnnotation: "c1"})
	waitAdmitting(t, e.Kube, ns, "workload")

	secret, err := e.Kube.CoreV1().Secrets(ns).Get(ctx, "cert", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("certificate Secret: %v", err)
	}
	if secret.Type != corev1.SecretTypeTLS {
		t.Errorf("Secret type %s, want %s", secret.Type, corev1.SecretTypeTLS)
	}
	waitFor(t, 5*time.Second, "both replicas serve the Secret's certificate", func() error {
		ca, cb := mustServed(t, a.addr), mustServed(t, b.addr)
		if !ca.Equal(cb) {
			return errDiffer
		}
		return nil
	})

	var (
		serials   = map[string]bool{}
		cas       = map[string]bool{}
		maxBundle int
		failures  int
	)
	deadline := time.Now().Add(32 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		_, err := e.Kube.CoreV1().Pods(ns).Create(ctx, pod(ns, "p", "workload", labelled), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			failures++
			t.Errorf("pod refused at %s: %v", time.Now().Format(time.TimeOnly), err)
		}
		leaf := mustServed(t, a.addr)
		if time.Now().After(leaf.NotAfter) {
			t.Errorf("replica serves an expired certificate (expired %s)", leaf.NotAfter)
		}
		serials[leaf.SerialNumber.String()] = true
		cfg, err := e.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "wi-rotation", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bundle := cfg.Webhooks[0].ClientConfig.CABundle
		maxBundle = max(maxBundle, countPEM(bundle))
		cas[string(firstPEM(bundle))] = true
		time.Sleep(200 * time.Millisecond)
	}
	waitFor(t, 5*time.Second, "both configurations have the same caBundle", func() error {
		m, err := e.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "wi-rotation", metav1.GetOptions{})
		if err != nil {
			return err
		}
		v, err := e.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "wi-rotation", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if countPEM(m.Webhooks[0].ClientConfig.CABundle) == 0 || !bytes.Equal(m.Webhooks[0].ClientConfig.CABundle, v.Webhooks[0].ClientConfig.CABundle) {
			return errors.New("caBundles differ or are empty")
		}
		return nil
	})
	t.Logf("%d serving certificates and %d CAs seen, at most %d CAs in the bundle, %d pods refused", len(serials), len(cas), maxBundle, failures)
	if len(serials) < 3 {
		t.Errorf("%d serving certificates in 32 s with a 12 s lifetime, want at least 3 (renewed before expiry)", len(serials))
	}
	if len(cas) < 2 || maxBundle < 2 {
		t.Errorf("CA not renewed, or the old one dropped at once: %d CAs, at most %d in the bundle", len(cas), maxBundle)
	}
}

var errDiffer = errors.New("the replicas serve different certificates")

func mustServed(t testing.TB, addr string) *x509.Certificate {
	t.Helper()
	c, err := servedCertificate(addr)
	if err != nil {
		t.Fatalf("read served certificate: %v", err)
	}
	return c
}

func countPEM(b []byte) int {
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return n
		}
		n++
	}
}

func firstPEM(b []byte) []byte {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil
	}
	return block.Bytes
}
