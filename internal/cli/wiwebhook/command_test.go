package wiwebhook

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/wiwebhook"
)

// TestCommandServesOnRealAPIServer runs `podid wi-webhook` as a user
// would, against a real API server: it becomes ready, stores its
// certificate in the Secret, fills in the caBundle of the configurations
// and stops cleanly on cancel.
func TestCommandServesOnRealAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	e := testenv.StartT(t, testenv.Options{})
	ns := e.NewNamespace(t)
	ctx := context.Background()
	cfgs := wiwebhook.Manifest(wiwebhook.ManifestOptions{Name: "wi-cli", ServiceNamespace: ns, ServiceName: DefaultServiceName})
	if _, err := e.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, cfgs.Mutating, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(context.Background(), "wi-cli", metav1.DeleteOptions{})
	})
	var ports [3]int
	for i := range ports {
		p, err := controlplane.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[i]) }
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := NewCommand(runCtx)
	cmd.SetArgs([]string{"--kubeconfig", e.ControlPlane.Kubeconfig, "--namespace", ns, "--tenant-id", "t1",
		"--webhook-config", "wi-cli", "--address", addr(0), "--probe-address", addr(1), "--metrics-address", addr(2)})
	done := make(chan error, 1)
	go func() { done <- cmd.Execute() }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		err := get("http://" + addr(1) + "/readyz")
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("command ended before ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready in 30 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := get("http://" + addr(2) + "/metrics"); err != nil {
		t.Errorf("metrics: %v", err)
	}
	secret, err := e.Kube.CoreV1().Secrets(ns).Get(ctx, DefaultSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("certificate Secret: %v", err)
	}
	m, err := e.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "wi-cli", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Webhooks[0].ClientConfig.CABundle) != string(secret.Data["ca.crt"]) {
		t.Errorf("caBundle is not the Secret's CA")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("command returned %v on cancel, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("command did not stop within 15 s of cancel")
	}
}

func get(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
