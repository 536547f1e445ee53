package doctor

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
)

// assigned is the AzureAssignedIdentity mic names for pod p of ns and
// identity id, with the given status and Ready condition.
func assigned(ns, p, id, status string, reason assignstatus.Reason, msg string, since time.Time) *podidv1.AzureAssignedIdentity {
	return &podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p + "-" + ns + "-" + id},
		Spec: podidv1.AzureAssignedIdentitySpec{Pod: p, PodNamespace: ns, NodeName: "node-0",
			AzureIdentityRef: &podidv1.AzureIdentity{ObjectMeta: objMeta(ns, id)}},
		Status: podidv1.AzureAssignedIdentityStatus{Status: status, Conditions: []metav1.Condition{{
			Type: assignstatus.ConditionReady, Status: metav1.ConditionFalse, Reason: string(reason), Message: msg, LastTransitionTime: metav1.NewTime(since),
		}}},
	}
}

func TestAssignmentState(t *testing.T) {
	const (
		// The messages the cloud worker writes (cloudassign.Classify).
		linked = `LinkedAuthorizationFailed: the controller's identity (object id 11111111-1111-1111-1111-111111111111) may update aks-pool0-vmss but lacks Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on /subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1. Grant it with: az role assignment create --role "Managed Identity Operator" --assignee 11111111-1111-1111-1111-111111111111 --scope /subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`
		authz  = `AuthorizationFailed: the controller's identity (object id 11111111-1111-1111-1111-111111111111) may not perform Microsoft.Compute/virtualMachineScaleSets/write on /subscriptions/s/resourceGroups/nodes/providers/Microsoft.Compute/virtualMachineScaleSets/aks-pool0-vmss. Grant it with: az role assignment create --role "Virtual Machine Contributor" --assignee 11111111-1111-1111-1111-111111111111 --scope /subscriptions/s/resourceGroups/nodes`
	)
	base := func(objs ...any) *Facts {
		return facts(append([]any{msi("ns", "id"), binding("ns", "b", "id", "web"), pod("ns", "p", "web")}, objs...)...)
	}
	young := base()
	young.Now = young.Pods[0].CreationTimestamp.Add(5 * time.Second)
	withMIC := base()
	withMIC.Components = []Component{{Kind: Controller, Product: "podid", Object: "Deployment kube-system/mic", Desired: 1, Ready: 0}}
	long := testNow.Add(-5 * time.Minute)
	runCases(t, "assignment-state", map[string]checkCase{
		"an Assigned assignment passes": {
			facts: base(assigned("ns", "p", "id", podidv1.AssignedIDAssigned, assignstatus.Assigned, "ok", long)),
			want:  []want{{status: Pass, message: "1 assignment mic's bindings call for exists and is Assigned"}},
		},
		"a young pod without an assignment warns": {
			facts: young,
			want:  []want{{status: Warn, object: "Pod ns/p", message: "mic has not yet assigned identity ns/id", fix: ""}},
		},
		"a minute-old pod without an assignment fails and shows mic's logs": {
			facts: withMIC,
			want: []want{{status: Fail, object: "Pod ns/p", message: "mic is not running or is failing",
				fix: "kubectl -n kube-system logs deployment/mic"}},
		},
		"LinkedAuthorizationFailed names Managed Identity Operator and mic's own grant": {
			facts: base(assigned("ns", "p", "id", podidv1.AssignedIDCreated, assignstatus.CloudRefused, linked, long)),
			want: []want{{status: Fail, object: "Pod ns/p", message: `(LinkedAuthorizationFailed): mic's identity lacks role "Managed Identity Operator" on /subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
				fix: `az role assignment create --role "Managed Identity Operator" --assignee 11111111-1111-1111-1111-111111111111 --scope /subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`}},
		},
		"AuthorizationFailed names Virtual Machine Contributor on the node resource group": {
			facts: base(assigned("ns", "p", "id", podidv1.AssignedIDCreated, assignstatus.CloudRefused, authz, long)),
			want: []want{{status: Fail, object: "Pod ns/p", message: `(AuthorizationFailed): mic's identity lacks role "Virtual Machine Contributor" on /subscriptions/s/resourceGroups/nodes.`,
				fix: `az role assignment create --role "Virtual Machine Contributor" --assignee 11111111-1111-1111-1111-111111111111 --scope /subscriptions/s/resourceGroups/nodes`}},
		},
		"an identity Azure does not know is fixed in the AzureIdentity": {
			facts: base(assigned("ns", "p", "id", podidv1.AssignedIDCreated, assignstatus.CloudRefused, "InvalidIdentityValues: Azure says identity x does not exist.", long)),
			want:  []want{{status: Fail, object: "Pod ns/p", message: "(InvalidIdentityValues)", fix: "kubectl -n ns edit azureidentity id"}},
		},
		"an assignment waiting for the cloud for minutes fails": {
			facts: base(assigned("ns", "p", "id", podidv1.AssignedIDCreated, assignstatus.WaitingForCloudAssignment, "waiting", long)),
			want: []want{{status: Fail, object: "Pod ns/p", message: "has been Created (WaitingForCloudAssignment) for 5m0s: mic's cloud worker",
				fix: "podid mic --kubeconfig <kubeconfig>"}},
		},
		"an unavailable cloud warns": {
			facts: base(assigned("ns", "p", "id", podidv1.AssignedIDCreated, assignstatus.CloudUnavailable, "Azure answered 500", long)),
			want:  []want{{status: Warn, object: "Pod ns/p", message: "Azure did not answer for 5m0s", fix: "podid mic --kubeconfig <kubeconfig>"}},
		},
	})
}

func TestAssignmentStateShowsTheNewestWarningEvent(t *testing.T) {
	f := facts(msi("ns", "id"), binding("ns", "b", "id", "web"), pod("ns", "p", "web"),
		assigned("ns", "p", "id", podidv1.AssignedIDCreated, assignstatus.CloudRefused, "AuthorizationFailed: no. Grant it with: az x", testNow.Add(-time.Hour)),
		warning("Pod", "ns", "p", "Old", "older", testNow.Add(-time.Hour)),
		warning("AzureIdentity", "ns", "id", "AuthorizationFailed", "newest", testNow.Add(-time.Minute)))
	got := runCheck("assignment-state", f)
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1:\n%s", len(got), describe(got))
	}
	want := "newest Warning event, on AzureIdentity ns/id: AuthorizationFailed: newest"
	for _, e := range got[0].Evidence {
		if e == want {
			return
		}
	}
	t.Fatalf("evidence %q lacks %q", got[0].Evidence, want)
}
