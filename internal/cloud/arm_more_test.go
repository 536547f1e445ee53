package cloud_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/podid/podid/internal/cloud/authz"
)

// TestARMGroupsVMsAndAssignments drives resource groups (armresources), a
// VM's system- and user-assigned identities (armcompute) and role-assignment
// listing and deletion (armauthorization) as the subscription Owner.
func TestARMGroupsVMsAndAssignments(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	app, _ := env.Cloud.Application("deployer")
	cred := secretCred(t, env, app.AppID, "good-secret")

	groups, _ := armresources.NewResourceGroupsClient(nodeSub, cred, armOptions(env))
	if _, err := groups.CreateOrUpdate(ctx, "rg-new", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
	g, err := groups.Get(ctx, "rg-new", nil)
	if err != nil || *g.Location != "eastus" {
		t.Fatalf("get group: %v", err)
	}
	_, err = groups.Get(ctx, "rg-missing", nil)
	respErr(t, err, http.StatusNotFound, "ResourceGroupNotFound")

	vms, _ := armcompute.NewVirtualMachinesClient(nodeSub, cred, armOptions(env))
	kubelet, _ := env.Cloud.IdentityByName("kubelet")
	p, err := vms.BeginUpdate(ctx, nodeRG, "jumpbox", armcompute.VirtualMachineUpdate{Identity: &armcompute.VirtualMachineIdentity{
		Type:                   to.Ptr(armcompute.ResourceIdentityTypeSystemAssignedUserAssigned),
		UserAssignedIdentities: map[string]*armcompute.UserAssignedIdentitiesValue{kubelet.ID: {}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, &pollOpts); err != nil {
		t.Fatal(err)
	}
	vm, err := vms.Get(ctx, nodeRG, "jumpbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *vm.Identity.Type != armcompute.ResourceIdentityTypeSystemAssignedUserAssigned || vm.Identity.PrincipalID == nil ||
		*vm.Identity.UserAssignedIdentities[kubelet.ID].ClientID != kubelet.ClientID {
		t.Fatalf("VM identity = %+v", vm.Identity)
	}

	ras, _ := armauthorization.NewRoleAssignmentsClient(nodeSub, cred, armOptions(env))
	scope := "/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG
	name := newGUID(t)
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: to.Ptr("/subscriptions/" + nodeSub + "/providers/Microsoft.Authorization/roleDefinitions/" + authz.ReaderID),
		PrincipalID:      to.Ptr(kubelet.PrincipalID)}}
	if _, err := ras.Create(ctx, scope, name, params, nil); err != nil {
		t.Fatal(err)
	}
	_, err = ras.Create(ctx, scope, newGUID(t), params, nil)
	respErr(t, err, http.StatusConflict, "RoleAssignmentExists")
	params.Properties.PrincipalID = to.Ptr("00000000-0000-0000-0000-00000000dead")
	_, err = ras.Create(ctx, scope, newGUID(t), params, nil)
	respErr(t, err, http.StatusBadRequest, "PrincipalNotFound")

	// The client sends $filter unencoded; list over HTTP/2 and over HTTP/1.1.
	http1 := armOptions(env)
	http1.Transport = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: env.Cloud.CertPool(), MinVersion: tls.VersionTLS12}}}
	ras1, _ := armauthorization.NewRoleAssignmentsClient(nodeSub, cred, http1)
	for _, client := range []*armauthorization.RoleAssignmentsClient{ras, ras1} {
		found := 0
		pager := client.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("principalId eq '" + kubelet.PrincipalID + "'")})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			found += len(page.Value)
		}
		if found != 1 {
			t.Fatalf("listed %d assignments for the kubelet identity, want 1", found)
		}
	}
	http1.Transport.(*http.Client).CloseIdleConnections()
	if _, err := ras.Delete(ctx, scope, name, nil); err != nil {
		t.Fatal(err)
	}
	_, err = ras.Get(ctx, scope, name, nil)
	respErr(t, err, http.StatusNotFound, "RoleAssignmentNotFound")
}
