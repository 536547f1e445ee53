package authz

// Built-in roles of Azure Kubernetes Service: the four "RBAC" roles hold
// data actions that Azure RBAC for Kubernetes authorization checks for each
// API request (Microsoft.ContainerService/managedClusters/<group>/<resource>/<verb>),
// assignable at a cluster or at <cluster ID>/namespaces/<namespace>; the
// two credential roles hold the management actions that fetch a kubeconfig.
const (
	AKSRBACReaderID       = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	AKSRBACWriterID       = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
	AKSRBACAdminID        = "3498e952-d568-435e-9b2c-8d77e338d7f7"
	AKSRBACClusterAdminID = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
	AKSClusterUserRoleID  = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"
	AKSClusterAdminRoleID = "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8"
)

// mc is the prefix of every managed-cluster action.
const mc = "Microsoft.ContainerService/managedClusters/"

// aksRBACActions are the management actions every AKS RBAC role carries.
var aksRBACActions = []string{
	"Microsoft.Authorization/*/read",
	"Microsoft.Resources/subscriptions/operationresults/read",
	"Microsoft.Resources/subscriptions/read",
	"Microsoft.Resources/subscriptions/resourceGroups/read",
}

// prefixed returns mc+s for each s.
func prefixed(ss ...string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = mc + s
	}
	return out
}

func aksRoles() []RoleDefinition {
	withUserCred := append(append([]string{}, aksRBACActions...), mc+"listClusterUserCredential/action")
	return []RoleDefinition{
		{ID: AKSRBACReaderID, RoleName: "Azure Kubernetes Service RBAC Reader",
			Description: "Allows read-only access to see most objects in a namespace. It does not allow viewing roles or role bindings. This role does not allow viewing Secrets, since reading the contents of Secrets enables access to ServiceAccount credentials in the namespace, which would allow API access as any ServiceAccount in the namespace (a form of privilege escalation). Applying this role at cluster scope will give access across all namespaces.",
			Permissions: []Permission{{Actions: aksRBACActions, DataActions: prefixed(
				"apps/controllerrevisions/read", "apps/daemonsets/read", "apps/deployments/read", "apps/replicasets/read", "apps/statefulsets/read",
				"autoscaling/horizontalpodautoscalers/read", "batch/cronjobs/read", "batch/jobs/read", "configmaps/read",
				"discovery.k8s.io/endpointslices/read", "endpoints/read", "events.k8s.io/events/read", "events/read",
				"extensions/daemonsets/read", "extensions/deployments/read", "extensions/ingresses/read", "extensions/networkpolicies/read", "extensions/replicasets/read",
				"limitranges/read", "metrics.k8s.io/pods/read", "metrics.k8s.io/nodes/read", "namespaces/read",
				"networking.k8s.io/ingresses/read", "networking.k8s.io/networkpolicies/read", "persistentvolumeclaims/read", "pods/read",
				"policy/poddisruptionbudgets/read", "replicationcontrollers/read", "resourcequotas/read", "serviceaccounts/read", "services/read",
			)}}},
		{ID: AKSRBACWriterID, RoleName: "Azure Kubernetes Service RBAC Writer",
			Description: "Allows read/write access to most objects in a namespace.This role does not allow viewing or modifying roles or role bindings. However, this role allows accessing Secrets and running Pods as any ServiceAccount in the namespace, so it can be used to gain the API access levels of any ServiceAccount in the namespace. Applying this role at cluster scope will give access across all namespaces.",
			Permissions: []Permission{{Actions: aksRBACActions, DataActions: prefixed(
				"apps/controllerrevisions/read", "apps/daemonsets/*", "apps/deployments/*", "apps/replicasets/*", "apps/statefulsets/*",
				"autoscaling/horizontalpodautoscalers/*", "batch/cronjobs/*",
				"coordination.k8s.io/leases/read", "coordination.k8s.io/leases/write", "coordination.k8s.io/leases/delete",
				"discovery.k8s.io/endpointslices/read", "batch/jobs/*", "configmaps/*", "endpoints/*", "events.k8s.io/events/read", "events/*",
				"extensions/daemonsets/*", "extensions/deployments/*", "extensions/ingresses/*", "extensions/networkpolicies/*", "extensions/replicasets/*",
				"limitranges/read", "metrics.k8s.io/pods/read", "metrics.k8s.io/nodes/read", "namespaces/read",
				"networking.k8s.io/ingresses/*", "networking.k8s.io/networkpolicies/*", "persistentvolumeclaims/*", "pods/*",
				"policy/poddisruptionbudgets/*", "replicationcontrollers/*", "resourcequotas/read", "secrets/*", "serviceaccounts/*", "services/*",
			)}}},
		{ID: AKSRBACAdminID, RoleName: "Azure Kubernetes Service RBAC Admin",
			Description: "Lets you manage all resources under cluster/namespace, except update or delete resource quotas and namespaces.",
			Permissions: []Permission{{Actions: withUserCred, DataActions: []string{mc + "*"},
				NotDataActions: prefixed("resourcequotas/write", "resourcequotas/delete", "namespaces/write", "namespaces/delete")}}},
		{ID: AKSRBACClusterAdminID, RoleName: "Azure Kubernetes Service RBAC Cluster Admin",
			Description: "Lets you manage all resources in the cluster.",
			Permissions: []Permission{{Actions: withUserCred, DataActions: []string{mc + "*"}}}},
		{ID: AKSClusterUserRoleID, RoleName: "Azure Kubernetes Service Cluster User Role",
			Description: "List cluster user credential action.",
			Permissions: []Permission{{Actions: prefixed("listClusterUserCredential/action", "read")}}},
		{ID: AKSClusterAdminRoleID, RoleName: "Azure Kubernetes Service Cluster Admin Role",
			Description: "List cluster admin credential action.",
			Permissions: []Permission{{Actions: prefixed("listClusterAdminCredential/action", "accessProfiles/listCredential/action", "read", "runcommand/action")}}},
	}
}
