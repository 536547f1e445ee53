package integration

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/controller/assign"
	"github.com/podid/podid/internal/testenv"
)

func newIdentity(ns, name string, annotations map[string]string) *podidv1.AzureIdentity {
	return &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: goodClient, ResourceID: goodRID},
	}
}

func newBinding(ns, name, identity, selector string) *podidv1.AzureIdentityBinding {
	return &podidv1.AzureIdentityBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: identity, Selector: selector},
	}
}

func create(ctx context.Context, t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func createPods(ctx context.Context, t *testing.T, ns string, specs ...testenv.PodSpec) {
	t.Helper()
	var pods []*corev1.Pod
	for _, s := range specs {
		s.Namespace = ns
		pods = append(pods, testenv.Pod(s))
	}
	if err := env.CreatePods(ctx, pods, 4); err != nil {
		t.Fatal(err)
	}
}

// waitAssignments waits until the namespace's assignments, as
// "name status", equal want, and returns them.
func waitAssignments(ctx context.Context, t *testing.T, ns string, want ...string) []podidv1.AzureAssignedIdentity {
	t.Helper()
	sort.Strings(want)
	var got []string
	var list podidv1.AzureAssignedIdentityList
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		got = got[:0]
		for _, a := range list.Items {
			got = append(got, a.Name+" "+a.Status.Status)
		}
		sort.Strings(got)
		return fmt.Sprint(got) == fmt.Sprint(want), nil
	})
	if err != nil {
		t.Fatalf("assignments in %s = %q, want %q", ns, got, want)
	}
	return list.Items
}

func TestLabelledPodsGetAssignedIdentitiesInFederatedMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := env.NewNamespace(t)
	create(ctx, t, newIdentity(ns, "reader", nil), newBinding(ns, "reader-binding", "reader", "kv"))
	createPods(ctx, t, ns,
		testenv.PodSpec{Name: "web-0", Node: "node-0", Labels: map[string]string{podidv1.SelectorLabel: "kv"}},
		testenv.PodSpec{Name: "web-1", Node: "node-1", Labels: map[string]string{podidv1.SelectorLabel: "kv"}},
		testenv.PodSpec{Name: "plain", Node: "node-2"},
	)
	got := waitAssignments(ctx, t, ns, "web-0-"+ns+"-reader Assigned", "web-1-"+ns+"-reader Assigned")
	for _, a := range got {
		if a.Labels[podidv1.NodeNameLabel] != a.Spec.NodeName || a.Spec.NodeName == "" {
			t.Errorf("%s: label nodename=%q, spec.nodename=%q; want both the pod's node", a.Name, a.Labels[podidv1.NodeNameLabel], a.Spec.NodeName)
		}
		if a.Spec.AzureIdentityRef == nil || a.Spec.AzureIdentityRef.Spec.ClientID != goodClient {
			t.Errorf("%s: identity copy %+v lacks the client ID", a.Name, a.Spec.AzureIdentityRef)
		}
		if len(a.Finalizers) != 0 {
			t.Errorf("%s: finalizers %v on an assignment that needs no cloud clean-up", a.Name, a.Finalizers)
		}
		if len(a.Status.Conditions) != 1 || a.Status.Conditions[0].Reason != string(assignstatus.Assigned) {
			t.Errorf("%s: conditions %+v, want Ready/%s", a.Name, a.Status.Conditions, assignstatus.Assigned)
		}
	}

	// Settled assignments are not written again.
	versions := map[string]string{}
	for _, a := range got {
		versions[a.Name] = a.ResourceVersion
	}
	time.Sleep(2 * time.Second)
	for _, a := range waitAssignments(ctx, t, ns, "web-0-"+ns+"-reader Assigned", "web-1-"+ns+"-reader Assigned") {
		if a.ResourceVersion != versions[a.Name] {
			t.Errorf("%s was rewritten at steady state (resourceVersion %s, then %s)", a.Name, versions[a.Name], a.ResourceVersion)
		}
	}

	// Deleting a pod removes its assignment.
	if err := env.Kube.CoreV1().Pods(ns).Delete(ctx, "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAssignments(ctx, t, ns, "web-0-"+ns+"-reader Assigned")

	// Changing the binding's selector moves the identity to other pods.
	createPods(ctx, t, ns, testenv.PodSpec{Name: "api-0", Node: "node-1", Labels: map[string]string{podidv1.SelectorLabel: "api"}})
	var b podidv1.AzureIdentityBinding
	getObject(ctx, t, ns, "reader-binding", &b)
	b.Spec.Selector = "api"
	if err := env.Client.Update(ctx, &b); err != nil {
		t.Fatal(err)
	}
	waitAssignments(ctx, t, ns, "api-0-"+ns+"-reader Assigned")
	wantEvent(ctx, t, ns, "web-0", assign.ReasonNoBinding, `No AzureIdentityBinding has selector "kv"`)
}

func TestABindingToAMissingIdentityIsExplainedAndHealsWhenItAppears(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := env.NewNamespace(t)
	create(ctx, t, newBinding(ns, "b", "later", "app"))
	createPods(ctx, t, ns, testenv.PodSpec{Name: "p", Node: "node-0", Labels: map[string]string{podidv1.SelectorLabel: "app"}})
	wantEvent(ctx, t, ns, "b", assign.ReasonIdentityNotFound, `AzureIdentity "later" named in spec.azureIdentity does not exist`)
	var b podidv1.AzureIdentityBinding
	getObject(ctx, t, ns, "b", &b)
	if len(b.Status.Conditions) == 0 || b.Status.Conditions[0].Status != metav1.ConditionFalse {
		t.Errorf("binding conditions %+v, want Ready=False", b.Status.Conditions)
	}
	waitAssignments(ctx, t, ns) // none yet

	create(ctx, t, newIdentity(ns, "later", nil))
	waitAssignments(ctx, t, ns, "p-"+ns+"-later Assigned")
}

func TestPodsTheControllerMustNotServeAreToldWhy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := env.NewNamespace(t)
	other := env.NewNamespace(t)
	create(ctx, t, newIdentity(ns, "id", nil), newBinding(ns, "b", "id", "app"),
		&podidv1.AzurePodIdentityException{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mic-exception"},
			Spec:       podidv1.AzurePodIdentityExceptionSpec{PodLabels: map[string]string{"component": "mic"}},
		})
	app := map[string]string{podidv1.SelectorLabel: "app"}
	createPods(ctx, t, ns,
		testenv.PodSpec{Name: "hostnet", Node: "node-0", Labels: app, HostNetwork: true},
		testenv.PodSpec{Name: "exempt", Node: "node-0", Labels: map[string]string{podidv1.SelectorLabel: "app", "component": "mic"}},
	)
	createPods(ctx, t, other, testenv.PodSpec{Name: "stranger", Node: "node-0", Labels: app})
	wantEvent(ctx, t, ns, "hostnet", assign.ReasonHostNetwork, "uses the host network")
	wantEvent(ctx, t, ns, "exempt", assign.ReasonException, "mic-exception")
	wantEvent(ctx, t, other, "stranger", assign.ReasonOtherNamespace, "a binding serves pods of its own namespace")
	waitAssignments(ctx, t, ns)
	waitAssignments(ctx, t, other)
}

func TestNodeModeIdentityWaitsForTheCloud(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := env.NewNamespace(t)
	create(ctx, t,
		newIdentity(ns, "vmss-id", map[string]string{podidv1.TokenModeAnnotation: podidv1.TokenModeNode}),
		newBinding(ns, "b", "vmss-id", "app"))
	createPods(ctx, t, ns, testenv.PodSpec{Name: "p", Node: "node-0", Labels: map[string]string{podidv1.SelectorLabel: "app"}})
	got := waitAssignments(ctx, t, ns, "p-"+ns+"-vmss-id Created")
	if c := got[0].Status.Conditions; len(c) != 1 || c[0].Reason != string(assignstatus.WaitingForCloudAssignment) {
		t.Errorf("conditions %+v, want Ready=False/%s", c, assignstatus.WaitingForCloudAssignment)
	}
}

func TestAnAssignmentDeletedByHandComesBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := env.NewNamespace(t)
	create(ctx, t, newIdentity(ns, "id", nil), newBinding(ns, "b", "id", "app"))
	createPods(ctx, t, ns, testenv.PodSpec{Name: "p", Node: "node-0", Labels: map[string]string{podidv1.SelectorLabel: "app"}})
	got := waitAssignments(ctx, t, ns, "p-"+ns+"-id Assigned")
	if err := env.Client.Delete(ctx, &got[0]); err != nil {
		t.Fatal(err)
	}
	var list podidv1.AzureAssignedIdentityList
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
			return false, nil
		}
		return list.Items[0].UID != got[0].UID && list.Items[0].Status.Status == podidv1.AssignedIDAssigned, nil
	})
	if err != nil {
		t.Fatalf("the deleted assignment was not recreated: %+v", list.Items)
	}
}
