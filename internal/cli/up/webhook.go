package up

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/proc"
	"github.com/podid/podid/internal/wiwebhook"
)

// webhookReadyTimeout bounds the wait for the webhook's /readyz.
const webhookReadyTimeout = 30 * time.Second

// startWebhook runs the workload-identity webhook (`podid wi-webhook`) on
// loopback, where the API server calls it by URL, and registers its
// configurations. It keeps their caBundle current itself, and is ready
// only once it serves with a certificate the API server trusts.
func (r *runner) startWebhook(ctx context.Context) error {
	port, err := controlplane.FreePort()
	if err != nil {
		return fmt.Errorf("pick the webhook's port: %w", err)
	}
	probe, err := controlplane.FreePort()
	if err != nil {
		return fmt.Errorf("pick the webhook's probe port: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	probeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(probe))
	cfg := wiwebhook.Manifest(wiwebhook.ManifestOptions{URL: "https://" + addr})
	if _, err := r.kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, cfg.Mutating, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register the workload-identity webhook: %w", err)
	}
	if _, err := r.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, cfg.Validating, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register the workload-identity warnings: %w", err)
	}
	args := append([]string{"wi-webhook", "--kubeconfig=" + r.p.Kubeconfig, "--namespace=" + plan.AgentNamespace,
		"--address=" + addr, "--probe-address=" + probeAddr, "--metrics-address=", "--cert-host=127.0.0.1",
		"--tenant-id=" + r.p.TenantID}, r.p.Log.Args()...)
	r.log.Info("starting the workload-identity webhook", "address", addr)
	w, err := proc.Start(proc.Spec{Name: "wi-webhook", Path: r.rt.Executable, Args: args, LogFile: r.p.WebhookLog()})
	if err != nil {
		return err
	}
	r.webhook = w
	r.children = append(r.children, w)
	ctx, cancel := context.WithTimeout(ctx, webhookReadyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	return r.poll(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+probeAddr+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("webhook /readyz: %w", err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("webhook /readyz: %s", resp.Status)
		}
		return nil
	})
}
