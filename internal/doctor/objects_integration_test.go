package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
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
	t.Run("under cluster-wide bindings a binding serving another namespace warns", func(t *testing.T) {
		home, other := env.NewNamespace(t), env.NewNamespace(t)
		create(t, msi(home, "id"), binding(home, "b", "id", "cw-web"), labelled(other, "p", "cw-web"))
		f, err := Gather(ctx, c, GatherOptions{Scope: Scope{Namespace: other}, Settings: Settings{TokenMode: podidv1.TokenModeFederated, ClusterWideBindings: true}})
		if err != nil {
			t.Fatal(err)
		}
		assertFindings(t, runCheck("binding-namespace", f), []want{{status: Warn, object: "AzureIdentityBinding " + home + "/b",
			message: "gives identity id to 1 pod of other namespaces (" + other + "/p)", fix: "kubectl -n " + home + " annotate azureidentity id aadpodidentity.k8s.io/Behavior=namespaced"}})
	})
	t.Run("workload identity: a ServiceAccount without client-id is annotated", func(t *testing.T) {
		ns := env.NewNamespace(t)
		p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: "p", Node: node, ServiceAccount: "app", Labels: map[string]string{wi.UseLabel: "true"}})
		create(t, serviceAccount(ns, "app", ""), p)
		assertFindings(t, runCheck("wi-service-account", gather(t, ns, 0)), []want{{status: Fail, object: "Pod " + ns + "/p",
			message: "has no azure.workload.identity/client-id annotation",
			fix:     "kubectl -n " + ns + " annotate serviceaccount app azure.workload.identity/client-id=<client ID> --overwrite && kubectl -n " + ns + " get pod p -o yaml | kubectl replace --force -f -"}})
	})
	t.Run("a user without the doctor's ClusterRole is told the grant, and it suffices", func(t *testing.T) {
		ns := env.NewNamespace(t)
		const user = "dev@contoso.example"
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
		dev, err := client.New(cfg, client.Options{Scheme: Scheme(kubeclient.Scheme())})
		if err != nil {
			t.Fatal(err)
		}
		read := func() []Finding {
			f, err := Gather(ctx, dev, GatherOptions{Scope: Scope{Namespace: ns}, Settings: Settings{TokenMode: podidv1.TokenModeFederated}})
			if err != nil {
				t.Fatal(err)
			}
			return checkGather(f)
		}
		got := read()
		if len(got) == 0 {
			t.Fatal("gather reported nothing for a user who may read nothing")
		}
		for _, g := range got {
			if g.Status != Warn || g.Fix != GrantReadCommand() || !strings.Contains(strings.Join(g.Evidence, " "), "forbidden") {
				t.Errorf("want every finding a warning with the grant command and the API server's refusal:\n%s", describe(got))
				break
			}
		}
		// What the printed command creates: ReadRules as the ClusterRole
		// podid-doctor, bound to the user.
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ReadRoleName + "-" + ns}, Rules: ReadRules}
		bindingObj := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ReadRoleName + "-" + ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}}
		create(t, role, bindingObj)
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			got = read()
			return len(got) == 1 && got[0].Status == Pass, nil
		})
		if err != nil {
			t.Fatalf("with the doctor's ClusterRole the user still cannot read everything:\n%s", describe(got))
		}
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
