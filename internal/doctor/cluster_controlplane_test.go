package doctor

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/testenv"
)

// TestClusterChecksOnControlPlane gathers from a real API server with one
// kwok node and runs the cluster checks. The cases share the cluster and
// run in order; each removes the cluster-wide objects it made.
func TestClusterChecksOnControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	c, err := client.New(env.Config, client.Options{Scheme: Scheme(kubeclient.Scheme())})
	if err != nil {
		t.Fatal(err)
	}
	node := env.Nodes[0].Name
	gather := func(t *testing.T, o GatherOptions) *Facts {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		f, err := Gather(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	create := func(t *testing.T, obj client.Object) {
		t.Helper()
		if err := c.Create(context.Background(), obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
	}

	t.Run("crds-installed passes with the CRDs testenv installs", func(t *testing.T) {
		got := checkCRDs(gather(t, GatherOptions{}))
		assertClusterFindings(t, got, []string{"pass"}, "")
	})

	t.Run("duplicate-agents passes with one agent and fails with aad-pod-identity's beside it", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, daemonSet(ns, "podid-nmi", "example.invalid/podid:test", "nmi"))
		assertClusterFindings(t, checkDuplicateAgents(gather(t, GatherOptions{})), []string{"pass"}, "")

		create(t, daemonSet(ns, "nmi", "mcr.microsoft.com/oss/azure/aad-pod-identity/nmi:v1.8.17"))
		got := checkDuplicateAgents(gather(t, GatherOptions{}))
		assertClusterFindings(t, got, []string{"fail DaemonSet " + ns + "/nmi"}, "kubectl -n "+ns+" delete daemonset nmi")
	})

	t.Run("controller fails when mic's Deployment has no ready replica", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, deployment(ns, "podid-mic", "example.invalid/podid:test", "mic"))
		got := checkController(gather(t, GatherOptions{}))
		assertClusterFindings(t, got, []string{"fail Deployment " + ns + "/podid-mic"}, "kubectl -n "+ns+" logs deployment/podid-mic")
	})

	t.Run("node-agent", func(t *testing.T) {
		ns := env.NewNamespace(t)
		if err := env.Client.Create(context.Background(), testenv.Pod(testenv.PodSpec{Namespace: ns, Name: "app", Node: node})); err != nil {
			t.Fatal(err)
		}
		ready := agentServer(t, "127.0.0.1:0", http.StatusOK, "ok")
		notReady := agentServer(t, "127.0.0.1:0", http.StatusServiceUnavailable, "not ready: pod index not synced")
		unreachable := closedAddress(t)
		at := func(addr string) func(string) string { return func(string) string { return addr } }
		cases := map[string]struct {
			opts     GatherOptions
			want     []string
			evidence string
		}{
			"an agent answering ready passes": {
				opts: GatherOptions{AgentAddress: at(ready)},
				want: []string{"pass"},
			},
			"an agent on the node's InternalIP at the agent port passes": {
				opts: GatherOptions{AgentPort: agentOnInternalIP(t, env.Nodes[0])},
				want: []string{"pass"},
			},
			"an agent that is not ready fails with its readiness body": {
				opts:     GatherOptions{AgentAddress: at(notReady)},
				want:     []string{"fail Node " + node},
				evidence: "503 Service Unavailable: not ready: pod index not synced",
			},
			"no agent answering fails with the address tried": {
				opts:     GatherOptions{AgentAddress: at(unreachable)},
				want:     []string{"fail Node " + node},
				evidence: "probe GET http://" + unreachable + "/readyz",
			},
			"agents not probed skip": {
				want: []string{"skip"},
			},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				tc.opts.Scope = Scope{Namespace: ns}
				got := checkNodeAgents(gather(t, tc.opts))
				assertClusterFindings(t, got, tc.want, "")
				if tc.evidence != "" && !strings.Contains(strings.Join(got[0].Evidence, "\n"), tc.evidence) {
					t.Fatalf("evidence %q lacks %q", got[0].Evidence, tc.evidence)
				}
			})
		}
	})

	// Last: it removes a CRD the other cases need.
	t.Run("crds-installed fails for a CRD that was deleted", func(t *testing.T) {
		name := "azurepodidentityexceptions.aadpodidentity.k8s.io"
		if err := c.Delete(context.Background(), &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		var got []Finding
		for time.Now().Before(deadline) {
			if got = checkCRDs(gather(t, GatherOptions{})); len(got) > 0 && got[0].Status == Fail {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		assertClusterFindings(t, got, []string{"fail CustomResourceDefinition " + name}, crdFix)
	})
}

// podTemplate runs image with args, as a component's pods would.
func podTemplate(name, image string, args ...string) corev1.PodTemplateSpec {
	labels := map[string]string{"app": name}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: image, Args: args}}},
	}
}

func daemonSet(ns, name, image string, args ...string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, image, args...),
		},
	}
}

func deployment(ns, name, image string, args ...string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, image, args...),
		},
	}
}

// agentServer serves /readyz on addr with code and body and returns its
// host:port.
func agentServer(t *testing.T, addr string, code int, body string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body + "\n"))
	}))
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return l.Addr().String()
}

// agentOnInternalIP serves a ready agent on the node's InternalIP (a
// loopback address in kwok's layout) and returns its port.
func agentOnInternalIP(t *testing.T, n *corev1.Node) int {
	t.Helper()
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			addr := agentServer(t, net.JoinHostPort(a.Address, "0"), http.StatusOK, "ok")
			return portOf(t, addr)
		}
	}
	t.Fatalf("node %s has no InternalIP", n.Name)
	return 0
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	ap, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ap.Port
}

// closedAddress is a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
