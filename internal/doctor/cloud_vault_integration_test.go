package doctor_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/testenv/netnode"
)

// Seed 004, step 4: the vault-access check reads the embedded cloud's
// vaults through mic's ARM sign-in. Before the identity has an access
// policy on the vault --vault names, it fails with the exact set-policy
// command; once the administrator sets it, it passes. The identity is in
// node token mode: Key Vault sees the same principal either way.
func TestVaultAccessCheckOnTheEmbeddedCloud(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const vault = "kv-westus2-aks"
	w := netnode.World{
		TenantID: "2e319086-9a26-46a3-865f-615bed576786", SubscriptionID: "99a3af26-911d-4bc5-8fcc-8f9de81e46c5",
		Instances: 1, Identities: []string{"aks-aad-user-identity"},
		Vaults: []string{"{name: " + vault + ", mode: accessPolicy}"},
		// Reading identities and vaults is Reader's.
		RoleAssignments: []string{"{principal: mic, role: Reader, scope: resourceGroup/" + netnode.NodeGroup + "}"},
	}
	ce := startCloudEnv(ctx, t, w)
	env, c := ce.env, ce.cloud
	ident, ok := c.IdentityByName("aks-aad-user-identity")
	if !ok {
		t.Fatal("the world has no aks-aad-user-identity")
	}
	if err := env.Client.Create(ctx, &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "aad-user-identity"},
		Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ResourceID: ident.ID, ClientID: ident.ClientID},
	}); err != nil {
		t.Fatal(err)
	}
	reader, cloudReader := ce.kube, ce.arm
	vaultAccess := func() doctor.Finding {
		t.Helper()
		f, err := doctor.Gather(ctx, reader, doctor.GatherOptions{Settings: doctor.Settings{TokenMode: podidv1.TokenModeNode, Vault: vault}})
		if err != nil {
			t.Fatal(err)
		}
		doctor.GatherCloud(ctx, cloudReader, f)
		if len(f.Cloud.PrincipalErrors) > 0 || len(f.Cloud.VaultErrors) > 0 {
			t.Fatalf("the cloud refused the doctor's reads: %v %v", f.Cloud.PrincipalErrors, f.Cloud.VaultErrors)
		}
		for _, fd := range doctor.Run(f, doctor.Checks()).Findings {
			if fd.Check == "vault-access" && fd.Object == "AzureIdentity default/aad-user-identity" {
				return fd
			}
		}
		t.Fatal("no vault-access finding for AzureIdentity default/aad-user-identity")
		return doctor.Finding{}
	}

	before := vaultAccess()
	wantFix := "az keyvault set-policy --name " + vault + " --object-id " + ident.PrincipalID + " --secret-permissions get list"
	if before.Status != doctor.Fail || before.Fix != wantFix {
		t.Fatalf("without an access policy: got %s %q fix %q; want fail with fix %q", before.Status, before.Message, before.Fix, wantFix)
	}

	// What `podid cloud vault-policy set --secrets get,list` asks of the cloud.
	if err := c.SetAccessPolicy(vault, ident.PrincipalID, []string{"get", "list"}); err != nil {
		t.Fatal(err)
	}
	if after := vaultAccess(); after.Status != doctor.Pass {
		t.Fatalf("with the access policy: got %s %q; want pass", after.Status, after.Message)
	}
}
