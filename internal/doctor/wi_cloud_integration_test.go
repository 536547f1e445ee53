package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
	"github.com/podid/podid/internal/wi"
)

// The doctor finds a workload-identity ServiceAccount's identity in the
// embedded cloud by the client ID alone (through ARM's subscriptions,
// resource groups and identities, as Reader on the subscription) and
// names the ServiceAccount its credential trusts by mistake.
func TestWIFederatedCredentialOnTheEmbeddedCloud(t *testing.T) {
	if doctor.MaxFederatedCredentials != cloud.MaxFederatedCredentials {
		t.Errorf("the doctor's limit %d differs from the cloud's %d", doctor.MaxFederatedCredentials, cloud.MaxFederatedCredentials)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := netnode.World{
		TenantID: "8f0d7c57-0a3e-4a4e-9d0f-1f0a6b2c9e11", SubscriptionID: "5c2bd6a0-8f6e-4b1d-9a51-2a9a7d1c0f42",
		Instances: 1, Identities: []string{"wi-app"},
		RoleAssignments: []string{"{principal: mic, role: Reader, scope: subscription/5c2bd6a0-8f6e-4b1d-9a51-2a9a7d1c0f42}"},
	}
	ce := startCloudEnv(ctx, t, w)
	id, ok := ce.cloud.IdentityByName("wi-app")
	if !ok {
		t.Fatal("the world has no identity wi-app")
	}
	issuer := ce.env.ControlPlane.Issuer
	if err := ce.cloud.AddFederatedCredential(id.ID, cloud.FederatedCredential{
		Name: "web", Issuer: issuer, Subject: "system:serviceaccount:apps:web", Audiences: []string{doctor.FederatedAudience},
	}); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "app", Annotations: map[string]string{wi.ClientIDAnnotation: id.ClientID}}}
	if err := ce.kube.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := ce.kube.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	p := testenv.Pod(testenv.PodSpec{Namespace: "apps", Name: "p", Node: ce.env.Nodes[0].Name, ServiceAccount: "app", Labels: map[string]string{wi.UseLabel: "true"}})
	if err := ce.env.CreatePods(ctx, []*corev1.Pod{p}, 1); err != nil {
		t.Fatal(err)
	}
	f, err := doctor.Gather(ctx, ce.kube, doctor.GatherOptions{Scope: doctor.Scope{Namespace: "apps"}})
	if err != nil {
		t.Fatal(err)
	}
	doctor.GatherIssuer(ctx, ce.env.Config, f)
	doctor.GatherCloud(ctx, ce.arm, f)
	if len(f.Cloud.WorkloadIdentityErrors) > 0 {
		t.Fatalf("the cloud refused the doctor's reads: %v", f.Cloud.WorkloadIdentityErrors)
	}
	var got []doctor.Finding
	for _, fd := range doctor.Run(f, doctor.Checks()).Findings {
		if fd.Check == "wi-federated-credential" {
			got = append(got, fd)
		}
	}
	want := "az identity federated-credential update --name web --identity-name wi-app --resource-group " + id.ResourceGroup + " --issuer " + issuer + " --subject system:serviceaccount:apps:app"
	if len(got) != 1 || got[0].Status != doctor.Fail || got[0].Object != "ServiceAccount apps/app" || !strings.Contains(got[0].Message, "AADSTS70021") || !strings.HasPrefix(got[0].Fix, want) {
		t.Errorf("got %+v\nwant one failure on ServiceAccount apps/app with fix %q", got, want)
	}
}
