package cloud

import (
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

const peopleRoleWorld = `
tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    subscriptions:
      - id: 7e242177-ef0b-431f-8c76-e40907843aa7
        resourceGroups:
          - name: rg-aks
            managedClusters:
              - name: aks-poc
    users:
      - userPrincipalName: alice@contoso.com
        password: pw
        objectId: a11ce000-0000-4000-8000-0000000000d1
    groups:
      - name: devs
        objectId: de500000-0000-4000-8000-0000000000d2
        members: [alice@contoso.com]
`

func TestRoleGrantToPeopleAndGroupsOnAClusterNamespace(t *testing.T) {
	w, err := world.Parse("world.yaml", []byte(peopleRoleWorld))
	if err != nil {
		t.Fatal(err)
	}
	e := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: t.TempDir()})
	const ns = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-poc/namespaces/dev"
	for principal, want := range map[string]struct{ oid, kind string }{
		"alice@contoso.com": {"a11ce000-0000-4000-8000-0000000000d1", "User"},
		"devs":              {"de500000-0000-4000-8000-0000000000d2", "Group"},
	} {
		args := []string{"role", "grant", "--principal", principal, "--role", "Azure Kubernetes Service RBAC Reader", "--scope", "managedCluster/aks-poc/namespaces/dev"}
		out, err := cloudCommand(t, e, args...)
		if err != nil || !strings.Contains(out, want.oid) {
			t.Fatalf("grant to %s: %q, %v", principal, out, err)
		}
		found := false
		for _, a := range e.Cloud.Snapshot().RoleAssignments {
			found = found || (a.PrincipalID == want.oid && a.Scope == ns && a.PrincipalType == want.kind)
		}
		if !found {
			t.Errorf("no %s assignment to %s at %s in %+v", want.kind, principal, ns, e.Cloud.Snapshot().RoleAssignments)
		}
	}
	out, err := cloudCommand(t, e, "role", "revoke", "--principal", "devs", "--role", "Azure Kubernetes Service RBAC Reader", "--scope", "managedCluster/aks-poc/namespaces/dev")
	if err != nil || !strings.Contains(out, "revoked 1 ") {
		t.Errorf("revoke from devs: %q, %v", out, err)
	}
	_, err = cloudCommand(t, e, "role", "grant", "--principal", "devs", "--role", "Reader", "--scope", "managedCluster/aks-gone")
	if err == nil || !strings.Contains(err.Error(), `no managedCluster named "aks-gone"`) {
		t.Errorf("grant on a missing cluster = %v", err)
	}
}
