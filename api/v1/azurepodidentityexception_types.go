package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AzurePodIdentityExceptionSpec lists pod labels that exempt pods of the same
// namespace from pod identity: their requests go to the node's IMDS as is.
type AzurePodIdentityExceptionSpec struct {
	// PodLabels must all be present, with these values, on an exempt pod.
	// +kubebuilder:validation:MinProperties=1
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`
}

// AzurePodIdentityExceptionStatus is kept for compatibility.
type AzurePodIdentityExceptionStatus struct {
	// +optional
	Status string `json:"status,omitempty"`
}

// AzurePodIdentityException exempts matching pods from pod identity.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=azurepodidentityexceptions,scope=Namespaced
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AzurePodIdentityException struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AzurePodIdentityExceptionSpec   `json:"spec,omitempty"`
	Status AzurePodIdentityExceptionStatus `json:"status,omitempty"`
}

// AzurePodIdentityExceptionList is a list of AzurePodIdentityException.
// +kubebuilder:object:root=true
type AzurePodIdentityExceptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AzurePodIdentityException `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AzurePodIdentityException{}, &AzurePodIdentityExceptionList{})
}
