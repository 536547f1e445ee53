package server

// Reasons a request is refused, logged under "reason" and counted in metrics.
const (
	// ReasonMetadataHeader: the Metadata: true header is missing.
	ReasonMetadataHeader = "MetadataHeaderMissing"
	// ReasonResourceMissing: the resource parameter is missing.
	ReasonResourceMissing = "ResourceMissing"
	// ReasonSelectorConflict: more than one identity selector was given.
	ReasonSelectorConflict = "SelectorConflict"
	// ReasonUnknownCaller: no pod of this node has the caller's address.
	ReasonUnknownCaller = "UnknownCaller"
	// ReasonAmbiguousCaller: several pods have the caller's address.
	ReasonAmbiguousCaller = "AmbiguousCaller"
	// ReasonHostNetwork: the caller is a hostNetwork pod no exception covers.
	ReasonHostNetwork = "HostNetworkCaller"
	// ReasonNoIdentity: no identity is assigned to the pod.
	ReasonNoIdentity = "NoIdentityAssigned"
	// ReasonIdentityNotFound: the pod has no identity matching the selector.
	ReasonIdentityNotFound = "IdentityNotFound"
	// ReasonAmbiguousIdentity: several identities and no selector.
	ReasonAmbiguousIdentity = "AmbiguousIdentity"
	// ReasonNotReady: the selected assignment is not Assigned yet.
	ReasonNotReady = "AssignmentNotReady"
	// ReasonTokenFailed: the token source failed.
	ReasonTokenFailed = "TokenFailed"
	// ReasonBlocked: the path is blocked by configuration.
	ReasonBlocked = "PathBlocked"
	// ReasonNotLoopback: /host/token called from another host.
	ReasonNotLoopback = "NotLoopback"
	// ReasonBadRequest: a malformed request.
	ReasonBadRequest = "BadRequest"
	// ReasonHostCallerRefused: a /host/token caller not on the allow list.
	ReasonHostCallerRefused = "HostCallerRefused"
	// ReasonThrottled: the pod exceeded its request rate or in-flight cap.
	ReasonThrottled = "PodThrottled"
	// ReasonExempt: an exempt pod's request passed through to the node.
	ReasonExempt = "ExemptPassThrough"
)
