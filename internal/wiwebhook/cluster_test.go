package wiwebhook_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// The API server is started once for the package, on first use, so the
// pure tests run without it.
var (
	envOnce sync.Once
	env     *testenv.Env
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		env.Stop()
	}
	os.Exit(code)
}

func cluster(t testing.TB) *testenv.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an API server")
	}
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		env, envErr = testenv.Start(ctx, testenv.Options{})
	})
	if envErr != nil {
		t.Fatalf("start test cluster: %v", envErr)
	}
	return env
}

// testConfig is what the webhooks under test inject.
var testConfig = wiwebhook.Config{TenantID: "11111111-1111-1111-1111-111111111111", AuthorityHost: "https://login.podid.test/"}

// replica is one running webhook server.
type replica struct {
	addr, probe, metrics string
	stop                 func()
}

// startReplica runs a webhook server on loopback ports until stop or the
// end of the test. Its certificate lives in Secret cert of namespace ns.
func startReplica(t testing.TB, e *testenv.Env, ns, config string, life wiwebhook.Lifetimes, refresh time.Duration) *replica {
	t.Helper()
	var ls [3]net.Listener
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i] = l
	}
	srv, err := wiwebhook.New(e.Kube, wiwebhook.Options{
		Config: testConfig,
		Certs: wiwebhook.CertOptions{Secret: types.NamespacedName{Namespace: ns, Name: "cert"}, ConfigName: config,
			Hosts: []string{"127.0.0.1"}, Lifetimes: life, Refresh: refresh},
		Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ls[0], ls[1], ls[2]) }()
	var once sync.Once
	r := &replica{addr: ls[0].Addr().String(), probe: "http://" + ls[1].Addr().String(), metrics: "http://" + ls[2].Addr().String()}
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("webhook server: %v", err)
			}
		})
	}
	t.Cleanup(r.stop)
	waitFor(t, 30*time.Second, "webhook ready", func() error {
		resp, err := http.Get(r.probe + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz %d: %s", resp.StatusCode, body)
		}
		return nil
	})
	return r
}

// register creates both webhook configurations, calling url, limited to
// namespace ns so that other tests' pods never reach them, with an empty
// caBundle for the webhook to fill in.
func register(t testing.TB, e *testenv.Env, name, url, ns string) {
	t.Helper()
	ctx := context.Background()
	cfgs := wiwebhook.Manifest(wiwebhook.ManifestOptions{Name: name, URL: url})
	only := &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
	cfgs.Mutating.Webhooks[0].NamespaceSelector = only
	cfgs.Validating.Webhooks[0].NamespaceSelector = only
	ar := e.Kube.AdmissionregistrationV1()
	if _, err := ar.MutatingWebhookConfigurations().Create(ctx, cfgs.Mutating, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create MutatingWebhookConfiguration: %v", err)
	}
	if _, err := ar.ValidatingWebhookConfigurations().Create(ctx, cfgs.Validating, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ValidatingWebhookConfiguration: %v", err)
	}
	t.Cleanup(func() {
		_ = ar.MutatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = ar.ValidatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// warningClient is a clientset that records the API server's warnings.
type warnings struct {
	mu   sync.Mutex
	text []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.text = append(w.text, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.text
	w.text = nil
	return t
}

func warningClient(t testing.TB, e *testenv.Env) (kubernetes.Interface, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(e.Config)
	cfg.WarningHandler = w
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube, w
}

func serviceAccount(t testing.TB, e *testenv.Env, ns, name string, annotations map[string]string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations}}
	if _, err := e.Kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service account: %v", err)
	}
}

func pod(ns, name, sa string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app:1"}},
			InitContainers: []corev1.Container{{Name: "init", Image: "example.invalid/init:1"}}},
	}
}

var labelled = map[string]string{wi.UseLabel: "true"}

// waitAdmitting waits until the API server calls the webhook successfully:
// it picks up a new caBundle from its informers a moment after the update.
func waitAdmitting(t testing.TB, kube kubernetes.Interface, ns, sa string) {
	t.Helper()
	waitFor(t, 30*time.Second, "API server admits through the webhook", func() error {
		_, err := kube.CoreV1().Pods(ns).Create(context.Background(), pod(ns, "probe", sa, labelled), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	})
}

func waitFor(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// servedCertificate is the leaf a replica presents.
func servedCertificate(addr string) (*x509.Certificate, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- only reads the certificate
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// testLogger writes the servers' logs to stderr with -v, else nowhere.
func testLogger() *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
