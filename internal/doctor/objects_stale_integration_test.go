package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/testenv"
)

// On a real API server: an assignment left for a pod that does not exist,
// seen two minutes later, and an identity no binding names, are both found
// with the command that fixes them.
func TestStaleAndUnusedOnARealCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	ns := env.NewNamespace(t)
	id := &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lonely"},
		Spec: podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/lonely", ClientID: "7c2a4f7e-3b1d-4c55-9a63-2f0e8d1b6a90"}}
	ref := id.DeepCopy()
	ref.APIVersion, ref.Kind = podidv1.GroupVersion.String(), "AzureIdentity"
	a := &podidv1.AzureAssignedIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gone-" + ns + "-lonely"},
		Spec: podidv1.AzureAssignedIdentitySpec{Pod: "gone", PodNamespace: ns, NodeName: env.Nodes[0].Name, AzureIdentityRef: ref}}
	for _, o := range []client.Object{id, a} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(env.Config, client.Options{Scheme: doctor.Scheme(kubeclient.Scheme())})
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(2 * time.Minute) }
	f, err := doctor.Gather(ctx, c, doctor.GatherOptions{Scope: doctor.Scope{Namespace: ns}, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	r := doctor.Run(f, doctor.Checks())
	want := map[string]string{
		"stale-assignments AzureAssignedIdentity " + ns + "/" + a.Name: "kubectl -n " + ns + " delete azureassignedidentity " + a.Name,
		"unused-identity AzureIdentity " + ns + "/lonely":              `"azureIdentity":"lonely"`,
	}
	for k, fix := range want {
		found := false
		for _, fd := range r.Findings {
			if fd.Check+" "+fd.Object == k {
				found = true
				if fd.Status != doctor.Warn || !strings.Contains(fd.Fix, fix) {
					t.Errorf("%s: got %s fix %q; want warn with %q", k, fd.Status, fd.Fix, fix)
				}
			}
		}
		if !found {
			t.Errorf("no finding %s in %+v", k, r.Findings)
		}
	}
}
