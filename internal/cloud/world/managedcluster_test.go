package world

import (
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud"
)

const clusterHead = `tenants:
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
    groups:
      - name: devs
        members: [alice@contoso.com]
`

const clusterID = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-poc"

func TestManagedClustersAndPeopleAsPrincipals(t *testing.T) {
	w, err := Parse("w.yaml", []byte(clusterHead+`    roleAssignments:
      - principal: alice@contoso.com
        role: Azure Kubernetes Service RBAC Reader
        scope: managedCluster/aks-poc/namespaces/dev
      - principal: devs
        role: Azure Kubernetes Service RBAC Writer
        scope: managedCluster/aks-poc
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ManagedClusters) != 1 || st.ManagedClusters[0].ID != clusterID || st.ManagedClusters[0].Location != "eastus" {
		t.Fatalf("clusters = %+v", st.ManagedClusters)
	}
	ras := st.RoleAssignments
	if len(ras) != 2 {
		t.Fatalf("assignments = %+v", ras)
	}
	if ras[0].Scope != clusterID+"/namespaces/dev" || ras[0].PrincipalID != st.Users[0].ObjectID || ras[0].PrincipalType != "User" {
		t.Errorf("person's assignment = %+v", ras[0])
	}
	if ras[1].Scope != clusterID || ras[1].PrincipalID != st.Groups[0].ObjectID || ras[1].PrincipalType != "Group" {
		t.Errorf("group's assignment = %+v", ras[1])
	}
	// podid cloud role resolves the same references against a running state.
	if oid, err := ResolvePrincipal(st, "ALICE@contoso.com"); err != nil || oid != st.Users[0].ObjectID {
		t.Errorf("ResolvePrincipal(upn) = %q, %v", oid, err)
	}
	if scope, err := ResolveScope(st, "managedCluster/aks-poc/namespaces/prod"); err != nil || scope != clusterID+"/namespaces/prod" {
		t.Errorf("ResolveScope(namespace) = %q, %v", scope, err)
	}
}

func TestManagedClusterRefusals(t *testing.T) {
	cases := map[string]struct {
		body, want string
	}{
		"a bad cluster name": {strings.Replace(clusterHead, "aks-poc", "-aks", 1), `"-aks" is not a valid cluster name`},
		"a cluster declared twice": {strings.Replace(clusterHead, "              - name: aks-poc\n", "              - name: aks-poc\n              - name: AKS-POC\n", 1),
			`cluster "AKS-POC" is declared twice`},
		"an unknown cluster key": {strings.Replace(clusterHead, "- name: aks-poc\n", "- name: aks-poc\n                sku: Free\n", 1), "sku"},
		"a scope naming no cluster": {clusterHead + "    roleAssignments:\n      - principal: devs\n        role: Reader\n        scope: managedCluster/nope\n",
			`no managedCluster named "nope"`},
		"a scope naming no namespace": {clusterHead + "    roleAssignments:\n      - principal: devs\n        role: Reader\n        scope: managedCluster/aks-poc/namespaces/\n",
			"names no namespace"},
		"a principal that is nobody": {clusterHead + "    roleAssignments:\n      - principal: carol@contoso.com\n        role: Reader\n        scope: managedCluster/aks-poc\n",
			`no user, group, identity, application or object ID "carol@contoso.com"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := Parse("w.yaml", []byte(tc.body))
			if err == nil {
				_, err = w.State()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestGroupNameInTwoTenantsMustBeAnObjectID(t *testing.T) {
	st := cloud.State{Groups: []*cloud.Group{{TenantID: "t1", ObjectID: "g1", Name: "devs"}, {TenantID: "t2", ObjectID: "g2", Name: "devs"}}}
	if _, err := ResolvePrincipal(st, "devs"); err == nil || !strings.Contains(err.Error(), "name the group by its object ID") {
		t.Errorf("ambiguous group: %v", err)
	}
}
