package doctor

// SignInFacts is how one kubeconfig signs in to the cluster and what the
// API server makes of it: gathered only when the doctor is given a
// kubeconfig (GatherSignIn).
type SignInFacts struct {
	// Kubeconfig is the file examined.
	Kubeconfig string
	// Err is why the kubeconfig could not be read; the rest is then empty.
	Err string
	// Context, User and Cluster are the current context's names; Server
	// is the cluster's URL.
	Context, User, Cluster, Server string

	// How the user signs in: one of AuthProvider (its name), Exec,
	// ClientCertificate or Token.
	AuthProvider      string
	Exec              *ExecPlugin
	ClientCertificate bool
	Token             bool

	// Plugin is what running the exec plugin gave; nil when it was not run.
	Plugin *PluginRun
	// Review is the API server's answer to a SelfSubjectReview; nil when
	// no credential could be presented.
	Review *SignInReview
	// Access are SelfSubjectAccessReviews of what a user of the cluster
	// does first; empty without a signed-in review.
	Access []AccessFact
	// Bindings are the ClusterRoleBindings and RoleBindings that grant
	// cluster-admin or name the user, the user's groups or the admin
	// groups; BindingsErr says why they could not be listed.
	Bindings    []BindingFact
	BindingsErr string

	// Run is the podid up run whose cluster the kubeconfig reaches; nil
	// when none is known.
	Run *SignInRun
}

// ExecPlugin is a kubeconfig user's exec credential plugin.
type ExecPlugin struct {
	// Command is as the kubeconfig names it; Path where it was found on
	// PATH, empty when it was not.
	Command, Path string
	// InstallHint is the kubeconfig's installHint.
	InstallHint string
	// Login is the login method (--login, or AAD_LOGIN_METHOD).
	Login string
	// ClientID is the service principal's (AAD_SERVICE_PRINCIPAL_CLIENT_ID)
	// when Login is spn.
	ClientID string
}

// PluginRun is the outcome of running the exec plugin non-interactively.
type PluginRun struct {
	// TimedOut is set when it did not answer in time: it waits for a
	// person (device code).
	TimedOut bool
	// Prompted is set when it printed a device code.
	Prompted bool
	// ExitCode is its exit status when it failed; 0 otherwise.
	ExitCode int
	// Err is why it failed; empty when it printed a credential.
	Err string
	// Stderr are its error lines, with anything like a token removed.
	Stderr []string
	// GroupsOverage is set when the token it printed carries Azure AD's
	// group overage indicator instead of the groups (the user is in more
	// than 200): the API server then sees none of the user's groups.
	GroupsOverage bool
}

// SignInReview is the API server's SelfSubjectReview answer.
type SignInReview struct {
	// Unauthorized is set on 401: the credential was refused.
	Unauthorized bool
	// Err is any other failure.
	Err string
	// User and Groups are who the API server says the credential is.
	User   string
	Groups []string
}

// AccessFact is one SelfSubjectAccessReview.
type AccessFact struct {
	Verb, Group, Resource string
	// Namespace is empty for the cluster scope.
	Namespace string
	Allowed   bool
	// Reason is the authorizer's; Err why the review failed.
	Reason, Err string
}

// BindingFact is a RoleBinding or ClusterRoleBinding.
type BindingFact struct {
	// Object is "ClusterRoleBinding name" or "RoleBinding ns/name".
	Object string
	// Role is "ClusterRole cluster-admin" or "Role name".
	Role string
	// Subjects are "User x", "Group y", "ServiceAccount ns/z".
	Subjects []string
}

// SignInRun is what a podid up run's record says of sign-in.
type SignInRun struct {
	// StateDir is the run's folder; Kubeconfig the run's own (admin)
	// kubeconfig.
	StateDir, Kubeconfig string
	// ClusterName, ResourceGroup and ClusterID name the managed cluster.
	ClusterName, ResourceGroup, ClusterID string
	// LocalAccounts is false under --disable-local-accounts.
	LocalAccounts bool
	// AzureRBAC is set under --enable-azure-rbac.
	AzureRBAC bool
	// AdminGroups are --aad-admin-group-object-ids.
	AdminGroups []string
}
