package assign

// Reasons of findings, used as event reasons.
const (
	// ReasonIdentityNotFound: a binding names an AzureIdentity that does not
	// exist in its namespace.
	ReasonIdentityNotFound = "BindingIdentityNotFound"
	// ReasonNoBinding: a pod's aadpodidbinding label matches no binding.
	ReasonNoBinding = "NoMatchingBinding"
	// ReasonOverlappingSelectors: several bindings in one namespace share a
	// selector, so their pods get several identities and must name one.
	ReasonOverlappingSelectors = "OverlappingSelectors"
	// ReasonHostNetwork: a pod on the host network matched a binding.
	ReasonHostNetwork = "HostNetworkPod"
	// ReasonException: a pod matched an AzurePodIdentityException.
	ReasonException = "PodIdentityException"
	// ReasonClusterWide: a binding serves pods of another namespace because
	// the cluster runs with the old cross-namespace behaviour.
	ReasonClusterWide = "CrossNamespaceBinding"
	// ReasonOtherNamespace: a pod carries a selector that only bindings of
	// other namespaces have.
	ReasonOtherNamespace = "BindingInOtherNamespace"
)
