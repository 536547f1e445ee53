package wiwebhook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// TestAdmissionOnRealAPIServer registers the webhook with a real
// kube-apiserver (URL on 127.0.0.1, caBundle filled in by the webhook) and
// creates pods through it as a user would.
func TestAdmissionOnRealAPIServer(t *testing.T) {
	e := cluster(t)
	ctx := context.Background()
	ns := e.NewNamespace(t)
	r := startReplica(t, e, ns, "wi-admission", wiwebhook.Lifetimes{}, time.Minute)
	register(t, e, "wi-admission", "https://"+r.addr, ns)
	serviceAccount(t, e, ns, "workload", map[string]string{wi.ClientIDAnnotation: "00000000-0000-0000-0000-0000000000c1"})
	serviceAccount(t, e, ns, "bare", nil)
	serviceAccount(t, e, ns, "short", map[string]string{wi.ClientIDAnnotation: "c1", wi.TokenExpirationAnnotation: "100"})
	kube, warned := warningClient(t, e)
	waitAdmitting(t, kube, ns, "workload")
	warned.take()

	create := func(t *testing.T, p *corev1.Pod) (*corev1.Pod, []string) {
		t.Helper()
		if _, err := kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod: %v", err)
		}
		stored, err := e.Kube.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get stored pod: %v", err)
		}
		return stored, warned.take()
	}

	t.Run("a labelled pod is stored with the token volume and the environment", func(t *testing.T) {
		stored, w := create(t, pod(ns, "injected", "workload", labelled))
		if len(w) != 0 {
			t.Errorf("unexpected warnings: %q", w)
		}
		for _, c := range append(stored.Spec.InitContainers, stored.Spec.Containers...) {
			env := map[string]string{}
			for _, v := range c.Env {
				env[v.Name] = v.Value
			}
			want := map[string]string{
				"AZURE_CLIENT_ID": "00000000-0000-0000-0000-0000000000c1", "AZURE_TENANT_ID": testConfig.TenantID,
				"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/wi/token/azure-identity-token",
				"AZURE_AUTHORITY_HOST":       testConfig.AuthorityHost,
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("container %s: %s=%q, want %q", c.Name, k, env[k], v)
				}
			}
			if n := len(c.VolumeMounts); n != 1 || c.VolumeMounts[0].MountPath != wiwebhook.MountPath || !c.VolumeMounts[0].ReadOnly {
				t.Errorf("container %s mounts %+v, want the token volume read-only at %s", c.Name, c.VolumeMounts, wiwebhook.MountPath)
			}
		}
		if len(stored.Spec.Volumes) != 1 || stored.Spec.Volumes[0].Projected == nil {
			t.Fatalf("volumes %+v, want one projected volume", stored.Spec.Volumes)
		}
		tok := stored.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken
		if tok == nil || tok.Audience != "api://AzureADTokenExchange" || *tok.ExpirationSeconds != 3600 || tok.Path != "token/azure-identity-token" {
			t.Errorf("token projection %+v, want audience api://AzureADTokenExchange, 3600 s, token/azure-identity-token", tok)
		}
	})

	t.Run("an unlabelled pod is stored as sent", func(t *testing.T) {
		stored, w := create(t, pod(ns, "plain", "bare", nil))
		if len(w) != 0 {
			t.Errorf("unexpected warnings: %q", w)
		}
		if len(stored.Spec.Volumes) != 0 || len(stored.Spec.Containers[0].Env) != 0 || len(stored.Spec.InitContainers[0].Env) != 0 {
			t.Errorf("unlabelled pod was changed: %+v", stored.Spec)
		}
	})

	t.Run("a labelled pod whose service account has no client-id is admitted with a warning", func(t *testing.T) {
		stored, w := create(t, pod(ns, "no-client", "bare", labelled))
		if len(w) != 1 || !strings.Contains(w[0], `service account "bare" has no azure.workload.identity/client-id annotation`) {
			t.Errorf("warnings %q, want one about the missing client-id", w)
		}
		for _, v := range stored.Spec.Containers[0].Env {
			if v.Name == "AZURE_CLIENT_ID" {
				t.Errorf("AZURE_CLIENT_ID injected empty")
			}
		}
	})

	t.Run("an unlabelled pod of an annotated service account is warned and left alone", func(t *testing.T) {
		stored, w := create(t, pod(ns, "forgot-label", "workload", nil))
		if len(w) != 1 || !strings.Contains(w[0], `lacks the label azure.workload.identity/use: "true"`) {
			t.Errorf("warnings %q, want one about the missing label", w)
		}
		if len(stored.Spec.Volumes) != 0 {
			t.Errorf("pod without the label was injected")
		}
	})

	t.Run("label value True is warned about", func(t *testing.T) {
		_, w := create(t, pod(ns, "capital", "workload", map[string]string{wi.UseLabel: "True"}))
		if len(w) != 1 || !strings.Contains(w[0], `is "True", not "true"`) {
			t.Errorf("warnings %q, want one about the label's case", w)
		}
	})

	t.Run("a token expiration out of range is refused with v1.6's message", func(t *testing.T) {
		_, err := kube.CoreV1().Pods(ns).Create(ctx, pod(ns, "short", "short", labelled), metav1.CreateOptions{})
		want := `admission webhook "mutation.azure-workload-identity.io" denied the request: token expiration 100 not valid. Expected value to be between 3600 and 86400`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("create: %v, want %q", err, want)
		}
		if _, err := e.Kube.CoreV1().Pods(ns).Get(ctx, "short", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("refused pod stored: %v", err)
		}
	})

	t.Run("a labelled pod of a missing service account is refused, saying so", func(t *testing.T) {
		_, err := kube.CoreV1().Pods(ns).Create(ctx, pod(ns, "orphan", "missing", labelled), metav1.CreateOptions{})
		want := `denied the request: serviceaccounts "missing" not found (create service account "missing" in namespace`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("create: %v, want %q", err, want)
		}
	})

	t.Run("metrics count admissions by webhook and result", func(t *testing.T) {
		counts := admissions(t, r.metrics)
		for _, k := range []string{"mutate/mutated", "mutate/warned", "mutate/denied", "warn/warned", "warn/allowed"} {
			if counts[k] < 1 {
				t.Errorf("podid_wi_webhook_admissions_total{%s} = %v, want at least 1 (all: %v)", k, counts[k], counts)
			}
		}
	})

	t.Run("with the webhook down a labelled pod is refused and others are admitted", func(t *testing.T) {
		r.stop()
		_, err := kube.CoreV1().Pods(ns).Create(ctx, pod(ns, "down", "workload", labelled), metav1.CreateOptions{})
		want := `failed calling webhook "mutation.azure-workload-identity.io"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("create with the webhook down: %v, want an error containing %q", err, want)
		}
		t.Logf("the API server says: %v", err)
		if _, err := e.Kube.CoreV1().Pods(ns).Get(ctx, "down", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("pod stored without its token: %v", err)
		}
		// The warning webhook fails open.
		if _, err := kube.CoreV1().Pods(ns).Create(ctx, pod(ns, "down-unlabelled", "workload", nil), metav1.CreateOptions{}); err != nil {
			t.Errorf("unlabelled pod refused while the webhook is down: %v", err)
		}
	})
}

// admissions reads podid_wi_webhook_admissions_total as "webhook/result".
func admissions(t testing.TB, metricsURL string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	samples, err := testenv.Samples(resp.Body, "podid_wi_webhook_admissions_total")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, s := range samples {
		out[s.Labels["webhook"]+"/"+s.Labels["result"]] = s.Value
	}
	return out
}
