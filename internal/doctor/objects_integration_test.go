package doctor

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/wi"
)

// TestObjectChecksOnARealCluster reproduces the object checks' findings
// against a real API server, with podid's CRDs: the objects are created
// as users would, Gather reads them back, and the check explains them.
// One cluster serves every case (each starts in ~4 s); cases are isolated
// by namespace and scope.
func TestObjectChecksOnARealCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := client.New(env.Config, client.Options{Scheme: Scheme(kubeclient.Scheme())})
	if err != nil {
		t.Fatal(err)
	}
	node := env.Nodes[0].Name
	create := func(t *testing.T, objs ...client.Object) {
		t.Helper()
		for _, o := range objs {
			if p, ok := o.(*corev1.Pod); ok {
				if err := env.CreatePods(ctx, []*corev1.Pod{p}, 1); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := c.Create(ctx, o); err != nil {
				t.Fatalf("create %T %s: %v", o, o.GetName(), err)
			}
		}
	}
	// gather reads the facts of namespace ns, seen from now+after.
	gather := func(t *testing.T, ns string, after time.Duration) *Facts {
		t.Helper()
		f, err := Gather(ctx, c, GatherOptions{Scope: Scope{Namespace: ns}, Settings: Settings{TokenMode: podidv1.TokenModeFederated},
			Now: func() time.Time { return time.Now().Add(after) }})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	labelled := func(ns, name, sel string) *corev1.Pod {
		return testenv.Pod(testenv.PodSpec{Namespace: ns, Name: name, Node: node, Labels: map[string]string{podidv1.SelectorLabel: sel}})
	}

	t.Run("a pod labelled in the wrong case is told the selector it means", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, msi(ns, "id"), binding(ns, "b", "id", "web"), labelled(ns, "p", "Web"))
		assertFindings(t, runCheck("pod-binding", gather(t, ns, 0)), []want{{status: Fail, object: "Pod " + ns + "/p",
			message: `probably means "web"`, fix: "kubectl label pod -n " + ns + " p aadpodidbinding=web --overwrite"}})
	})
	t.Run("a binding naming a misspelt identity is patched to the real one", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, msi(ns, "payments"), binding(ns, "b", "payment", "web"))
		assertFindings(t, runCheck("binding-identity", gather(t, ns, 0)), []want{{status: Fail, object: "AzureIdentityBinding " + ns + "/b",
			message: `probably means "payments"`, fix: "kubectl -n " + ns + ` patch azureidentitybinding b --type merge -p '{"spec":{"azureIdentity":"payments"}}'`}})
	})
	t.Run("a service principal without tenant is named by identity-fields", func(t *testing.T) {
		ns := env.NewNamespace(t)
		id := sp(ns, "sp", podidv1.ServicePrincipal, "s")
		id.Spec.TenantID = ""
		create(t, id)
		assertFindings(t, runCheck("identity-fields", gather(t, ns, 0)), []want{{status: Fail, object: "AzureIdentity " + ns + "/sp",
			message: "spec.tenantID is wrong", fix: "kubectl -n " + ns + " edit azureidentity sp"}})
	})
	t.Run("two bindings sharing a selector warn", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, msi(ns, "a"), msi(ns, "b"), binding(ns, "ba", "a", "web"), binding(ns, "bb", "b", "web"))
		assertFindings(t, runCheck("overlapping-selectors", gather(t, ns, 0)), []want{{status: Warn, object: "AzureIdentityBinding " + ns + "/ba",
			message: `share selector "web"`, fix: "kubectl -n " + ns + " edit azureidentitybinding bb"}})
	})
	t.Run("a labelled pod an exception covers names the exception", func(t *testing.T) {
		ns := env.NewNamespace(t)
		ex := &podidv1.AzurePodIdentityException{ObjectMeta: objMeta(ns, "ex"), Spec: podidv1.AzurePodIdentityExceptionSpec{PodLabels: map[string]string{"app": "agent"}}}
		p := labelled(ns, "p", "web")
		p.Labels["app"] = "agent"
		create(t, msi(ns, "id"), binding(ns, "b", "id", "web"), ex, p)
		assertFindings(t, runCheck("pod-exempt", gather(t, ns, 0)), []want{{status: Warn, object: "Pod " + ns + "/p",
			message: "AzurePodIdentityException " + ns + "/ex exempts it", fix: "kubectl -n " + ns + " edit azurepodidentityexception ex"}})
	})
	t.Run("a token-mode annotation with a typo is set to the mode it meant", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, msi(ns, "id", annotated(podidv1.TokenModeAnnotation, "nod")))
		assertFindings(t, runCheck("token-mode-annotation", gather(t, ns, 0)), []want{{status: Fail, object: "AzureIdentity " + ns + "/id",
			message: `(valid values: "federated", "node")`, fix: "kubectl -n " + ns + " annotate azureidentity id aadpodidentity.k8s.io/token-mode=node --overwrite"}})
	})
	t.Run("a service principal whose Secret is missing gets the create command", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, sp(ns, "id", podidv1.ServicePrincipal, "s"))
		assertFindings(t, runCheck("sp-secret", gather(t, ns, 0)), []want{{status: Fail, object: "AzureIdentity " + ns + "/id",
			message: "Secret " + ns + "/s does not exist", fix: "kubectl -n " + ns + " create secret generic s --from-literal=clientsecret=<client secret>"}})
	})
	t.Run("workload identity: a pod labelled True is told the label, and one labelled without a webhook to restart", func(t *testing.T) {
		ns := env.NewNamespace(t)
		pod := func(name, label string) *corev1.Pod {
			return testenv.Pod(testenv.PodSpec{Namespace: ns, Name: name, Node: node, ServiceAccount: "app", Labels: map[string]string{wi.UseLabel: label}})
		}
		create(t, serviceAccount(ns, "app", wiClientID), pod("cased", "True"), pod("bare", "true"))
		f := gather(t, ns, 0)
		assertFindings(t, runCheck("wi-pod-label", f), []want{{status: Fail, object: "Pod " + ns + "/cased", message: `lack the label azure.workload.identity/use: "true"`,
			fix: "kubectl -n " + ns + " get pod cased -o yaml | kubectl label --local -f - azure.workload.identity/use=true --overwrite -o yaml | kubectl replace --force -f -"}})
		assertFindings(t, runCheck("wi-injection", f), []want{{status: Fail, object: "Pod " + ns + "/bare", message: "none is registered now",
			fix: "kubectl -n " + ns + " get pod bare -o yaml | kubectl replace --force -f -"}})
		assertFindings(t, runCheck("wi-webhook", f), []want{{status: Fail, message: "No MutatingWebhookConfiguration selects pods labelled",
			fix: "kubectl apply -f deploy/podid.yaml   # podid's manifest, the webhook included"}})
	})
	t.Run("assignment-state fails without mic and passes once mic assigns", func(t *testing.T) {
		ns := env.NewNamespace(t)
		create(t, msi(ns, "id"), binding(ns, "b", "id", "web"), labelled(ns, "p", "web"))
		assertFindings(t, runCheck("assignment-state", gather(t, ns, time.Minute)), []want{{status: Fail, object: "Pod " + ns + "/p",
			message: "mic is not running or is failing", fix: "podid mic --kubeconfig <kubeconfig>"}})

		opts := controller.NewOptions()
		opts.TokenMode = podidv1.TokenModeFederated
		micCtx, stopMIC := context.WithCancel(ctx)
		waitMIC, err := env.RunMIC(micCtx, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { stopMIC(); _ = waitMIC() }()
		var got []Finding
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			got = runCheck("assignment-state", gather(t, ns, 0))
			return len(got) == 1 && got[0].Status == Pass, nil
		})
		if err != nil {
			t.Fatalf("assignment-state never passed with mic running:\n%s", describe(got))
		}
		assertFindings(t, got, []want{{status: Pass, message: "1 assignment mic's bindings call for exists and is Assigned"}})
	})
}
