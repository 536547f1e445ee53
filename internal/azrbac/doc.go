// Package azrbac is Azure RBAC for Kubernetes authorization, as AKS runs
// it when a cluster has --enable-azure-rbac: a kube-apiserver authorization
// webhook that answers each SubjectAccessReview from Azure role
// assignments.
//
// A request is turned into one data action of the managed cluster
// (Microsoft.ContainerService/managedClusters/[<group>/]<resource>/<verb>,
// with get/list/watch read, create/update/patch write, delete and
// deletecollection delete, bind/escalate/use/impersonate <verb>/action
// and exec on pods pods/exec/action), checked at the cluster's resource ID
// or, for a namespaced request, at <cluster ID>/namespaces/<namespace>.
// The AKS built-in roles (Azure Kubernetes Service RBAC Reader, Writer,
// Admin, Cluster Admin) grant such data actions; assignments at the
// cluster cover every namespace.
//
// Decide and its helpers are pure: a SubjectAccessReview spec plus the
// cloud's answers go in, a verdict with AKS's reason text comes out.
// Server is the HTTP front (authorization.k8s.io/v1 over TLS, /healthz,
// /readyz, /metrics); it asks a Directory — in podid the embedded cloud
// itself, read in-process, so a grant or revoke applies to the very next
// review and nothing is cached here. Kubernetes RBAC is meant to run
// first (--authorization-mode=Node,RBAC,Webhook): the webhook answers an
// explicit deny when Azure grants nothing, so RoleBindings keep working
// only if RBAC is asked before it.
package azrbac
