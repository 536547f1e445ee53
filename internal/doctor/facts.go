package doctor

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// Scope is what a run examines. The zero Scope is the whole cluster.
type Scope struct {
	// Namespace limits the run to one namespace.
	Namespace string
	// Pod ("namespace/name") limits it to one pod and what serves it.
	Pod string
	// Identity ("namespace/name") limits it to one AzureIdentity, its
	// bindings and the pods they select.
	Identity string
}

// String says what the scope is, for the report.
func (s Scope) String() string {
	switch {
	case s.Pod != "":
		return "pod " + s.Pod
	case s.Identity != "":
		return "AzureIdentity " + s.Identity
	case s.Namespace != "":
		return "namespace " + s.Namespace
	}
	return "cluster"
}

// Facts is everything the checks read, gathered once. Lists hold every
// object the API returned (checks need all bindings to tell why a pod is
// not selected); the scope says which ones to report on.
type Facts struct {
	Scope Scope
	// Now is when the facts were gathered (expiry checks compare to it).
	Now time.Time

	Pods        []corev1.Pod
	Identities  []podidv1.AzureIdentity
	Bindings    []podidv1.AzureIdentityBinding
	Assignments []podidv1.AzureAssignedIdentity
	Exceptions  []podidv1.AzurePodIdentityException
	Nodes       []corev1.Node
	// Events are the Warning events of the namespaces in scope.
	Events []corev1.Event
	// Secrets are the service principals' secrets the identities name,
	// keyed "namespace/name", without their values.
	Secrets map[string]SecretFact
	// CRDs are the aadpodidentity.k8s.io CustomResourceDefinitions.
	CRDs []apiextensionsv1.CustomResourceDefinition
	// Components are the Deployments and DaemonSets that run a pod
	// identity controller or node agent: podid's and aad-pod-identity's.
	Components []Component
	// Leases are the leader-election Leases of kube-system and the
	// components' namespaces.
	Leases []coordinationv1.Lease
	// Agents is what each node's agent answered, by node name; absent
	// when agents were not probed.
	Agents map[string]AgentFact

	// Settings are the cluster's podid settings the checks must agree
	// with (mic's flags).
	Settings Settings

	// Supervised is what a `podid up` run supervises as processes rather
	// than a Deployment and DaemonSet; nil outside podid up.
	Supervised *Supervised

	// Cloud is what the cloud answered; nil without cloud access.
	Cloud *CloudFacts
	// Federation is the cluster side of federated token mode.
	Federation Federation
	// WI is what the workload-identity checks read besides pods.
	WI WIFacts
	// SignIn is how the examined kubeconfig signs in; nil unless the
	// doctor was given one (GatherSignIn).
	SignIn *SignInFacts

	// Problems are what could not be gathered, each a sentence; the
	// gather-facts check reports them.
	Problems []string
}

// Settings are mic's settings that change what is correct.
type Settings struct {
	// ClusterWideBindings mirrors mic's --cluster-wide-bindings.
	ClusterWideBindings bool
	// TokenMode is the cluster default (federated or node).
	TokenMode string
	// AgentServiceAccount is the node agents' service account,
	// "namespace/name", whose tokens federated mode exchanges.
	AgentServiceAccount string
	// Vault names the Key Vault the apps read (doctor --vault); empty,
	// the doctor cannot know it and examines every vault it sees.
	Vault string
}

// SecretFact is what the doctor may know of a Secret: whether it exists
// and its keys, never its values.
type SecretFact struct {
	Exists bool
	Keys   []string
	// Err is why it could not be read (RBAC), if it could not.
	Err string
}

// ComponentKind tells a controller from a node agent.
type ComponentKind string

// Component kinds.
const (
	Controller ComponentKind = "controller"
	NodeAgent  ComponentKind = "node-agent"
)

// Component is one installation of a pod identity controller or agent.
type Component struct {
	// Kind is Controller or NodeAgent.
	Kind ComponentKind
	// Product is "podid" or "aad-pod-identity".
	Product string
	// Object is "Deployment ns/name" or "DaemonSet ns/name".
	Object string
	// Image is the first container's image.
	Image string
	// Desired and Ready are replica (or scheduled and ready pod) counts.
	Desired, Ready int32
	// HelmRelease is "namespace/release" when Helm installed it (the
	// meta.helm.sh annotations), else empty.
	HelmRelease string
}

// Supervised is what `podid up` runs as its own child processes: mic and
// one node agent per fake node, none of them in a Deployment or
// DaemonSet.
type Supervised struct {
	// StateDir is the run's folder (podid up --state-dir).
	StateDir string
	// Controller is mic's process; nil if the record has none.
	Controller *Process
	// Agents are the node agents' processes by node name.
	Agents map[string]Process
	// Kubelets are the real nodes' kubelets by node name, with their logs.
	Kubelets map[string]Process
	// CredentialFailures are each real node's kubelet's latest failure of
	// its image credential provider, by node name and then image, as its
	// log has it (the plugin's stderr, with its cause and fix): what the
	// pod's events never show, as the kubelet then pulls without
	// credentials.
	CredentialFailures map[string]map[string]string
}

// Process is one supervised process as the run record shows it.
type Process struct {
	Name string
	PID  int
	// Alive is whether the recorded process still runs (runstate.Alive).
	Alive bool
	// Log is its log file.
	Log string
}

// AgentFact is one node agent's answer to the doctor's probe.
type AgentFact struct {
	// Address is where the agent was asked.
	Address string
	// Reachable is whether it answered at all; Ready whether /readyz
	// said 200.
	Reachable, Ready bool
	// Detail is the error or the readiness body.
	Detail string
}

// CloudFacts is what the cloud said about the identities in scope.
type CloudFacts struct {
	// FederatedCredentials of each user-assigned identity, by lower-case
	// resource ID.
	FederatedCredentials map[string][]FederatedCredential
	// Errors are per-question failures ("list federated credentials of
	// X: 403 AuthorizationFailed"), by the same key.
	Errors map[string]string
	// Principals are the principal (object) IDs of the user-assigned
	// identities in scope, by lower-case resource ID; PrincipalErrors say
	// why one could not be read, by the same key.
	Principals, PrincipalErrors map[string]string
	// Vaults are the Key Vaults the doctor may read in each subscription
	// of an identity in scope, by lower-case subscription ID; VaultErrors
	// say why a subscription's could not be listed, by the same key.
	Vaults      map[string][]Vault
	VaultErrors map[string]string
	// WorkloadIdentities are the user-assigned identities that labelled
	// pods' ServiceAccounts name, by lower-case client ID;
	// WorkloadIdentityErrors say why one was not found or its federated
	// credentials not listed, by the same key.
	WorkloadIdentities     map[string]WIIdentity
	WorkloadIdentityErrors map[string]string
	// Pulls is what the cloud says about the registries pods in scope
	// pull from; nil when none is an Azure Container Registry.
	Pulls *PullCloud
}

// Vault is a Key Vault as Resource Manager shows it: what decides who may
// read its secrets.
type Vault struct {
	Name, ResourceGroup string
	// ID is its resource ID.
	ID string
	// TenantID is the tenant whose tokens it accepts.
	TenantID string
	// RBAC is enableRbacAuthorization: roles decide, access policies are
	// ignored.
	RBAC bool
	// AccessPolicies decide otherwise.
	AccessPolicies []VaultAccessPolicy
}

// VaultAccessPolicy is one access policy's principal and the secret
// permissions it grants (get, list, set, delete, all, ...).
type VaultAccessPolicy struct {
	TenantID, ObjectID string
	Secrets            []string
}

// FederatedCredential is a federated identity credential as ARM shows it.
type FederatedCredential struct {
	Name      string
	Issuer    string
	Subject   string
	Audiences []string
}
