package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// SelectorLabel is the pod label whose value a binding's selector must equal.
const SelectorLabel = "aadpodidbinding"

// AzureIdentityBindingSpec binds an AzureIdentity to the pods whose
// aadpodidbinding label equals Selector.
type AzureIdentityBindingSpec struct {
	// AzureIdentity is the name of an AzureIdentity in the binding's namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	AzureIdentity string `json:"azureIdentity,omitempty"`

	// Selector is compared, for equality, with the value of the pods'
	// aadpodidbinding label. It is not a label selector.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Selector string `json:"selector,omitempty"`

	// Weight is accepted for compatibility; aad-pod-identity never read it
	// and neither does podid (a pod names the identity it wants instead).
	// +optional
	Weight int `json:"weight,omitempty"`
}

// AzureIdentityBindingStatus reports what podid made of a binding.
type AzureIdentityBindingStatus struct {
	// Conditions explain whether the binding is in effect and, if not, why.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AzureIdentityBinding binds an AzureIdentity to pods by label.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=azureidentitybindings,scope=Namespaced
// +kubebuilder:printcolumn:name="AzureIdentity",type=string,JSONPath=`.spec.azureIdentity`
// +kubebuilder:printcolumn:name="Selector",type=string,JSONPath=`.spec.selector`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AzureIdentityBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AzureIdentityBindingSpec   `json:"spec,omitempty"`
	Status AzureIdentityBindingStatus `json:"status,omitempty"`
}

// AzureIdentityBindingList is a list of AzureIdentityBinding.
// +kubebuilder:object:root=true
type AzureIdentityBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AzureIdentityBinding `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AzureIdentityBinding{}, &AzureIdentityBindingList{})
}
