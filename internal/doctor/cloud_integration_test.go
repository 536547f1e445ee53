package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/testenv/netnode"
)

// The federation checks read the embedded cloud through mic's own ARM
// sign-in and the real API server's issuer: an identity federated with the
// cluster passes, one without a credential fails with the create command,
// and one whose credential names the issuer without its trailing slash
// fails saying so, with the update command.
func TestFederationChecksOnTheEmbeddedCloud(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := netnode.World{
		TenantID: "8f0d7c57-0a3e-4a4e-9d0f-1f0a6b2c9e11", SubscriptionID: "5c2bd6a0-8f6e-4b1d-9a51-2a9a7d1c0f42",
		Instances: 1, Identities: []string{"no-fed", "slash"},
		// Listing federated credentials is a read on the identities.
		RoleAssignments: []string{"{principal: mic, role: Reader, scope: resourceGroup/" + netnode.NodeGroup + "}"},
	}
	ce := startCloudEnv(ctx, t, w)
	env, c, issuer := ce.env, ce.cloud, ce.env.ControlPlane.Issuer
	idID := func(name string) string {
		return "/subscriptions/" + w.SubscriptionID + "/resourceGroups/" + netnode.NodeGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name
	}
	if err := c.AddFederatedCredential(idID("slash"), cloud.FederatedCredential{
		Name: "cluster", Issuer: issuer + "/", Subject: netnode.AgentSubject(), Audiences: []string{doctor.FederatedAudience},
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{netnode.FedIdentity, "no-fed", "slash"} {
		id := &podidv1.AzureIdentity{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ResourceID: idID(name), ClientID: "00000000-0000-0000-0000-00000000000" + string(rune('1'+len(name)%8))},
		}
		if err := env.Client.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	reader := ce.kube
	f, err := doctor.Gather(ctx, reader, doctor.GatherOptions{Settings: doctor.Settings{
		TokenMode: podidv1.TokenModeFederated, AgentServiceAccount: netnode.AgentNamespace + "/" + netnode.AgentServiceAccount,
	}})
	if err != nil {
		t.Fatal(err)
	}
	doctor.GatherIssuer(ctx, env.Config, f)
	doctor.GatherCloud(ctx, ce.arm, f)
	if len(f.Cloud.Errors) > 0 {
		t.Fatalf("the cloud refused the doctor's reads: %v", f.Cloud.Errors)
	}

	report := doctor.Run(f, doctor.Checks())
	byObject := map[string]doctor.Finding{}
	for _, fd := range report.Findings {
		if fd.Check == "federated-credential" || fd.Check == "issuer-discovery" {
			byObject[fd.Check+" "+fd.Object] = fd
		}
	}
	want := map[string]struct {
		status       doctor.Status
		message, fix string
	}{
		"federated-credential AzureIdentity default/no-fed": {doctor.Fail, "has no federated credential", "az identity federated-credential create --name podid --identity-name no-fed --resource-group " + netnode.NodeGroup + " --issuer " + issuer + " --subject " + netnode.AgentSubject()},
		"federated-credential AzureIdentity default/slash":  {doctor.Fail, "differ by a trailing slash", "az identity federated-credential update --name cluster --identity-name slash"},
		"issuer-discovery ": {doctor.Pass, "serves its discovery document", ""},
	}
	for k, w := range want {
		got, ok := byObject[k]
		if !ok {
			t.Errorf("no finding %q; got %+v", k, byObject)
			continue
		}
		if got.Status != w.status || !strings.Contains(got.Message, w.message) || !strings.Contains(got.Fix, w.fix) {
			t.Errorf("%s: got %s %q fix %q; want %s %q fix %q", k, got.Status, got.Message, got.Fix, w.status, w.message, w.fix)
		}
	}
	if fd, ok := byObject["federated-credential AzureIdentity default/"+netnode.FedIdentity]; ok {
		t.Errorf("the federated identity should pass, got %+v", fd)
	}
}
