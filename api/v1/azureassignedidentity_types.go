package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Assignment states, as aad-pod-identity wrote them into status.status.
const (
	// AssignedIDCreated means the assignment exists but the identity is not
	// usable yet (in node mode: not yet on the node's VM or VMSS).
	AssignedIDCreated = "Created"
	// AssignedIDAssigned means the pod can get tokens for the identity.
	AssignedIDAssigned = "Assigned"
	// AssignedIDUnassigned means the identity was removed and the object is
	// about to go away.
	AssignedIDUnassigned = "Unassigned"
)

// AssignedIdentityFinalizer holds an AzureAssignedIdentity until the cloud
// side of the assignment has been cleaned up. Same string as aad-pod-identity.
const AssignedIdentityFinalizer = "azureassignedidentity.finalizers.aadpodidentity.k8s.io"

// NodeNameLabel on an AzureAssignedIdentity carries the pod's node name, so a
// node agent can watch only its own node's assignments.
const NodeNameLabel = "nodename"

// PodUIDAnnotation on an AzureAssignedIdentity records the UID of the pod
// it was made for. A pod deleted and recreated under the same name (a
// StatefulSet pod, or a new pod that inherits the old one's IP) has another
// UID, so neither the controller nor the node agent mistakes the old
// assignment for the new pod's. aad-pod-identity never wrote it; an
// assignment without it is judged by name, node and label alone. It is an
// annotation, not a spec field, so older CRDs do not prune it and older
// clients ignore it.
const PodUIDAnnotation = "podid.io/pod-uid"

// MachineAnnotation on a node-mode AzureAssignedIdentity records the
// resource ID of the VM or scale set whose identity list mic's cloud
// worker keeps the identity on. It outlives the node: when a node is
// deleted first (a scale-in, a failed VM removed), the assignments of its
// pods still name the machine to release their identity from.
const MachineAnnotation = "podid.io/machine"

// AzureAssignedIdentitySpec records that one pod may use one identity.
type AzureAssignedIdentitySpec struct {
	// AzureIdentityRef is a copy of the identity at assignment time.
	// +optional
	// +kubebuilder:validation:EmbeddedResource
	// +kubebuilder:pruning:PreserveUnknownFields
	AzureIdentityRef *AzureIdentity `json:"azureIdentityRef,omitempty"`
	// AzureBindingRef is a copy of the binding that matched the pod.
	// +optional
	// +kubebuilder:validation:EmbeddedResource
	// +kubebuilder:pruning:PreserveUnknownFields
	AzureBindingRef *AzureIdentityBinding `json:"azureBindingRef,omitempty"`
	// Pod is the name of the pod.
	Pod string `json:"pod"`
	// PodNamespace is the namespace of the pod.
	PodNamespace string `json:"podNamespace"`
	// NodeName is the node the pod runs on (lower-case "nodename" on the wire).
	NodeName string `json:"nodename"`
	// Replicas is accepted for compatibility and not used.
	// +optional
	// +nullable
	Replicas *int32 `json:"replicas,omitempty"`
	// TokenMode is how the node agent gets tokens for this identity,
	// federated or node, as the controller resolved it from the identity's
	// aadpodidentity.k8s.io/token-mode annotation, its type and the cluster
	// default. The node agent obeys it; when it is empty (an assignment
	// written by an older controller) the agent resolves the mode itself by
	// the same rule.
	// +optional
	// +kubebuilder:validation:Enum=federated;node
	TokenMode string `json:"tokenMode,omitempty"`
}

// AzureAssignedIdentityStatus tells whether the assignment is usable.
type AzureAssignedIdentityStatus struct {
	// Status is Created, Assigned or Unassigned.
	// +optional
	// +kubebuilder:validation:Enum=Created;Assigned;Unassigned
	Status string `json:"status,omitempty"`
	// AvailableReplicas is accepted for compatibility and not used.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`
	// Conditions carry the reason and message of the current state, for
	// instance the cloud error that keeps an assignment in Created.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AzureAssignedIdentity is written by the controller: pod X may use identity Y.
//
// It has no status subresource on purpose: the controller is its only
// writer, and without one it creates an assignment already Assigned in a
// single write instead of a create and a status update, which halves the
// API server writes when thousands of pods start at once.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=azureassignedidentities,scope=Namespaced
// +kubebuilder:printcolumn:name="Pod",type=string,JSONPath=`.spec.pod`
// +kubebuilder:printcolumn:name="PodNamespace",type=string,JSONPath=`.spec.podNamespace`
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.spec.nodename`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AzureAssignedIdentity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AzureAssignedIdentitySpec   `json:"spec,omitempty"`
	Status AzureAssignedIdentityStatus `json:"status,omitempty"`
}

// AzureAssignedIdentityList is a list of AzureAssignedIdentity.
// +kubebuilder:object:root=true
type AzureAssignedIdentityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AzureAssignedIdentity `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AzureAssignedIdentity{}, &AzureAssignedIdentityList{})
}
