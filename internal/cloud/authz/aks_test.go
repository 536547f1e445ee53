package authz

import "testing"

const (
	aks     = rg + "/providers/Microsoft.ContainerService/managedClusters/aks"
	aksDev  = aks + "/namespaces/dev"
	devsGrp = "33333333-3333-3333-3333-333333333333"
)

func TestAKSRolesAndGroups(t *testing.T) {
	defs := Builtins()
	assign := func(principal, role, scope string) Assignment {
		return Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + principal, Scope: scope, PrincipalID: principal, RoleDefinitionID: role}
	}
	data := func(principal string, groups []string, action, scope string) Request {
		return Request{PrincipalID: principal, Groups: groups, Action: "Microsoft.ContainerService/managedClusters/" + action, Scope: scope, DataAction: true}
	}
	cases := map[string]struct {
		assignments []Assignment
		req         Request
		allowed     bool
	}{
		"RBAC Reader in a namespace lists its pods": {
			[]Assignment{assign(alice, AKSRBACReaderID, aksDev)}, data(alice, nil, "pods/read", aksDev), true},
		"RBAC Reader in one namespace sees nothing in another": {
			[]Assignment{assign(alice, AKSRBACReaderID, aksDev)}, data(alice, nil, "pods/read", aks+"/namespaces/prod"), false},
		"RBAC Reader at the cluster reads every namespace": {
			[]Assignment{assign(alice, AKSRBACReaderID, aks)}, data(alice, nil, "pods/read", aks+"/namespaces/prod"), true},
		"RBAC Reader cannot read secrets": {
			[]Assignment{assign(alice, AKSRBACReaderID, aks)}, data(alice, nil, "secrets/read", aksDev), false},
		"RBAC Reader cannot write deployments": {
			[]Assignment{assign(alice, AKSRBACReaderID, aks)}, data(alice, nil, "apps/deployments/write", aksDev), false},
		"RBAC Writer writes deployments and secrets": {
			[]Assignment{assign(alice, AKSRBACWriterID, aksDev)}, data(alice, nil, "secrets/write", aksDev), true},
		"RBAC Writer cannot touch roles": {
			[]Assignment{assign(alice, AKSRBACWriterID, aksDev)}, data(alice, nil, "rbac.authorization.k8s.io/roles/write", aksDev), false},
		"RBAC Admin manages roles in its namespace": {
			[]Assignment{assign(alice, AKSRBACAdminID, aksDev)}, data(alice, nil, "rbac.authorization.k8s.io/rolebindings/write", aksDev), true},
		"RBAC Admin cannot change resource quotas": {
			[]Assignment{assign(alice, AKSRBACAdminID, aks)}, data(alice, nil, "resourcequotas/write", aksDev), false},
		"RBAC Admin cannot delete namespaces": {
			[]Assignment{assign(alice, AKSRBACAdminID, aks)}, data(alice, nil, "namespaces/delete", aksDev), false},
		"RBAC Cluster Admin deletes namespaces": {
			[]Assignment{assign(alice, AKSRBACClusterAdminID, aks)}, data(alice, nil, "namespaces/delete", aksDev), true},
		"Cluster User Role holds no data actions": {
			[]Assignment{assign(alice, AKSClusterUserRoleID, aks)}, data(alice, nil, "pods/read", aksDev), false},
		"an assignment to a group the caller is in applies": {
			[]Assignment{assign(devsGrp, AKSRBACReaderID, aksDev)}, data(alice, []string{devsGrp}, "pods/read", aksDev), true},
		"an assignment to a group the caller is not in does not": {
			[]Assignment{assign(devsGrp, AKSRBACReaderID, aksDev)}, data(bob, nil, "pods/read", aksDev), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if d := Authorize(tc.req, tc.assignments, defs); d.Allowed != tc.allowed {
				t.Errorf("Authorize = %+v, want allowed %v", d, tc.allowed)
			}
		})
	}
	mgmt := map[string]struct {
		role, action string
		want         bool
	}{
		"Cluster User Role lists user credentials":   {AKSClusterUserRoleID, "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", true},
		"Cluster User Role cannot list admin ones":   {AKSClusterUserRoleID, "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", false},
		"Cluster Admin Role lists admin credentials": {AKSClusterAdminRoleID, "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", true},
		"RBAC Admin lists user credentials":          {AKSRBACAdminID, "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", true},
		"RBAC Reader does not list credentials":      {AKSRBACReaderID, "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", false},
	}
	for name, tc := range mgmt {
		if got := Permits(defs[tc.role], tc.action, false); got != tc.want {
			t.Errorf("%s: Permits = %v, want %v", name, got, tc.want)
		}
	}
	for _, n := range []string{"Azure Kubernetes Service RBAC Reader", "Azure Kubernetes Service RBAC Writer", "Azure Kubernetes Service RBAC Admin",
		"Azure Kubernetes Service RBAC Cluster Admin", "Azure Kubernetes Service Cluster User Role", "Azure Kubernetes Service Cluster Admin Role"} {
		if _, ok := LookupRole(defs, n); !ok {
			t.Errorf("no built-in role named %q", n)
		}
	}
}
