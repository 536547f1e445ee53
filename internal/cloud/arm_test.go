package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

// micCredential gets ARM tokens as the cluster identity through a federated
// exchange (a managed identity used as the client of a federated assertion).
func micCredential(t *testing.T, env *cloudtest.Env) azcore.TokenCredential {
	t.Helper()
	issuer := cloudtest.NewIssuer(t, env)
	cluster, _ := env.Cloud.IdentityByName("cluster")
	const subject = "system:serviceaccount:kube-system:mic"
	if err := env.Cloud.AddFederatedCredential(cluster.ID, cloud.FederatedCredential{Name: "mic", Issuer: issuer.URL, Subject: subject, Audiences: []string{"api://AzureADTokenExchange"}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(issuer.Token(t, subject, "api://AzureADTokenExchange", time.Hour)), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: env.ClientOptions(),
		ClientID: cluster.ClientID, TenantID: env.TenantID, TokenFilePath: file, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func armOptions(env *cloudtest.Env) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: env.ClientOptions()}
}

func respErr(t *testing.T, err error, status int, code string) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("error = %v, want %d %s", err, status, code)
	}
	return re
}

func TestARMIdentityAssignmentFlow(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	deployerApp, _ := env.Cloud.Application("deployer")
	deployer := secretCred(t, env, deployerApp.AppID, "good-secret")
	mic := micCredential(t, env)

	// The deployer (Owner) creates an identity and a federated credential with armmsi.
	ids, err := armmsi.NewUserAssignedIdentitiesClient(nodeSub, deployer, armOptions(env))
	if err != nil {
		t.Fatal(err)
	}
	created, err := ids.CreateOrUpdate(ctx, nodeRG, "workload-id", armmsi.Identity{Location: to.Ptr("westus2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	newID := *created.ID
	if created.Properties == nil || created.Properties.ClientID == nil || *created.Properties.TenantID != env.TenantID {
		t.Fatalf("created identity = %+v", created.Identity)
	}
	fics, _ := armmsi.NewFederatedIdentityCredentialsClient(nodeSub, deployer, armOptions(env))
	fic := armmsi.FederatedIdentityCredential{Properties: &armmsi.FederatedIdentityCredentialProperties{
		Issuer: to.Ptr("https://oidc.example/issuer"), Subject: to.Ptr("system:serviceaccount:default:app"), Audiences: []*string{to.Ptr("api://AzureADTokenExchange")}}}
	if _, err := fics.CreateOrUpdate(ctx, nodeRG, "workload-id", "app", fic, nil); err != nil {
		t.Fatal(err)
	}
	_, err = fics.CreateOrUpdate(ctx, nodeRG, "workload-id", "app-again", fic, nil)
	if re := respErr(t, err, 400, "BadRequest"); !strings.Contains(err.Error(), "Issuer and subject combination already exists for this Managed Identity.") {
		t.Fatalf("duplicate FIC: %v", re)
	}
	fic.Properties.Subject, fic.Properties.Audiences = to.Ptr("other"), []*string{to.Ptr("a"), to.Ptr("b")}
	_, err = fics.CreateOrUpdate(ctx, nodeRG, "workload-id", "two-aud", fic, nil)
	if respErr(t, err, 400, "BadRequest"); !strings.Contains(err.Error(), "exactly one audience") {
		t.Fatalf("two audiences: %v", err)
	}
	if got, err := fics.Get(ctx, nodeRG, "workload-id", "app", nil); err != nil || *got.Properties.Subject != "system:serviceaccount:default:app" {
		t.Fatalf("get FIC: %v", err)
	}
	_, err = fics.Get(ctx, nodeRG, "workload-id", "missing", nil)
	if respErr(t, err, 404, "ResourceNotFound"); !strings.Contains(err.Error(), "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/workload-id/missing' under resource group '"+nodeRG+"' was not found.") {
		t.Fatalf("missing FIC: %v", err)
	}
	if _, err := fics.Delete(ctx, nodeRG, "workload-id", "missing", nil); err != nil {
		t.Fatalf("deleting a missing FIC is no error in ARM: %v", err)
	}

	// MIC, with no role at all, cannot even read the VMSS.
	vmss, _ := armcompute.NewVirtualMachineScaleSetsClient(nodeSub, mic, armOptions(env))
	vmssID := "/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + vmssName
	_, err = vmss.Get(ctx, nodeRG, vmssName, nil)
	respErr(t, err, 403, "AuthorizationFailed")
	wantMsg := fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/read' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.", micOID, micOID, vmssID)
	if !strings.Contains(err.Error(), wantMsg) {
		t.Fatalf("AuthorizationFailed message:\n%v\nwant\n%s", err, wantMsg)
	}

	// The deployer grants Virtual Machine Contributor on the node resource group with armauthorization.
	ras, _ := armauthorization.NewRoleAssignmentsClient(nodeSub, deployer, armOptions(env))
	grant := func(role, scope string) {
		t.Helper()
		_, err := ras.Create(ctx, scope, newGUID(t), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr("/subscriptions/" + nodeSub + "/providers/Microsoft.Authorization/roleDefinitions/" + role),
			PrincipalID:      to.Ptr(micOID), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	grant(authz.VirtualMachineContribID, "/subscriptions/"+nodeSub+"/resourceGroups/"+nodeRG)
	got, err := vmss.Get(ctx, nodeRG, vmssName, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Identity.UserAssignedIdentities) != 1 || *got.SKU.Capacity != 2 {
		t.Fatalf("VMSS = %+v", got.Identity)
	}

	// Adding the new identity without Managed Identity Operator is LinkedAuthorizationFailed.
	patch := func(ids map[string]*armcompute.UserAssignedIdentitiesValue) error {
		p, err := vmss.BeginUpdate(ctx, nodeRG, vmssName, armcompute.VirtualMachineScaleSetUpdate{Identity: &armcompute.VirtualMachineScaleSetIdentity{
			Type: to.Ptr(armcompute.ResourceIdentityTypeUserAssigned), UserAssignedIdentities: ids}}, nil)
		if err != nil {
			return err
		}
		_, err = p.PollUntilDone(ctx, &pollOpts)
		return err
	}
	err = patch(map[string]*armcompute.UserAssignedIdentitiesValue{newID: {}})
	respErr(t, err, 403, "LinkedAuthorizationFailed")
	wantLinked := fmt.Sprintf("The client '%s' with object id '%s' has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope '%s'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '%s' or the linked scope(s) are invalid.", micOID, micOID, vmssID, strings.ToLower(newID))
	if !strings.Contains(err.Error(), wantLinked) {
		t.Fatalf("LinkedAuthorizationFailed message:\n%v\nwant\n%s", err, wantLinked)
	}
	if n := env.Cloud.PatchCount(vmssName); n != 0 {
		t.Fatalf("refused patch counted: %d", n)
	}

	// With Managed Identity Operator on the identity, the patch lands and IMDS serves it at once.
	grant(authz.ManagedIdentityOperatorID, newID)
	if err := patch(map[string]*armcompute.UserAssignedIdentitiesValue{newID: {}}); err != nil {
		t.Fatal(err)
	}
	if ids := env.Cloud.MachineIdentities(vmssName); len(ids) != 2 || env.Cloud.PatchCount(vmssName) != 1 {
		t.Fatalf("identities %v, patches %d", ids, env.Cloud.PatchCount(vmssName))
	}
	imds := env.IMDSClient(t, vmssName+"_0")
	path := "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=" + *created.Properties.ClientID
	if status, body := imdsGet(t, imds, path, true); status != http.StatusOK {
		t.Fatalf("IMDS after patch: %d %s", status, body)
	}

	// A null value removes the identity; IMDS stops serving it.
	if err := patch(map[string]*armcompute.UserAssignedIdentitiesValue{newID: nil}); err != nil {
		t.Fatal(err)
	}
	if status, body := imdsGet(t, imds, path, true); status != http.StatusBadRequest || !strings.Contains(body, "Identity not found") {
		t.Fatalf("IMDS after removal: %d %s", status, body)
	}

	// More than 150 identities in one request is refused like Azure does.
	many := map[string]*armcompute.UserAssignedIdentitiesValue{}
	for i := range 151 {
		many[fmt.Sprintf("%s-%d", newID, i)] = nil
	}
	err = patch(many)
	if respErr(t, err, 400, "BadRequest"); !strings.Contains(err.Error(), "User Assigned Identities Number '151' Assign exceed limit '150' in one request.") {
		t.Fatalf("151 identities: %v", err)
	}

	// Role definitions carry real IDs and permissions.
	defs, _ := armauthorization.NewRoleDefinitionsClient(deployer, armOptions(env))
	def, err := defs.Get(ctx, "/subscriptions/"+nodeSub, authz.ManagedIdentityOperatorID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *def.Properties.RoleName != "Managed Identity Operator" || len(def.Properties.Permissions[0].Actions) == 0 {
		t.Fatalf("role definition = %+v", def.Properties)
	}
}

func TestARMRefusesMissingOrForeignTokens(t *testing.T) {
	env := startWorld(t)
	url := env.URL + "/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG + "?api-version=2021-04-01"
	resp, err := env.HTTPClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer authorization_uri="`) {
		t.Fatalf("no token: %d %v", resp.StatusCode, resp.Header)
	}
	// A vault token is the wrong audience for ARM.
	app, _ := env.Cloud.Application("deployer")
	tok, err := getToken(t, secretCred(t, env, app.AppID, "good-secret"), "https://vault.azure.net/.default")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = env.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong audience: %d", resp.StatusCode)
	}
}
