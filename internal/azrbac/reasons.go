package azrbac

// Texts the webhook puts in SubjectAccessReview status.reason; kube-apiserver
// appends a denial's reason to its Forbidden message, so people read them
// after "User ... cannot list resource ...:". They are AKS's own wording.
const (
	// ReasonAllowed is the reason of an allowed request.
	ReasonAllowed = "Access allowed by Azure RBAC"
	// ReasonDenied is the reason of a request no role assignment allows.
	ReasonDenied = "User does not have access to the resource in Azure. Update role assignment to allow access."
	// ReasonSystemUser is the reason of the no-opinion answer for
	// Kubernetes' own users (system:...), which Kubernetes RBAC decides.
	ReasonSystemUser = "Azure does not have opinion for this user."
	// ReasonNonAADNoOpinion is the reason of the no-opinion answer for a
	// user the directory does not know (a client certificate or service
	// account of the cluster, not an Azure AD principal).
	ReasonNonAADNoOpinion = "Azure does not have opinion for this non AAD user. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig"
	// ReasonNonAADDenied replaces ReasonNonAADNoOpinion when the webhook
	// denies users the directory does not know (Options.DenyNonAADUsers).
	ReasonNonAADDenied = "Access denied by Azure RBAC for non AAD users. Start the webhook with --deny-non-aad-users=false to leave them to Kubernetes RBAC. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig."
	// errorPrefix starts status.evaluationError when the check failed.
	errorPrefix = "Error occured during authorization check. Please retry again. Error: "
)
