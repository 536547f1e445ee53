package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AzurePodIdentityExceptionSpec lists pod labels that exempt pods of the same
// namespace from pod identity: their requests go to the node's IMDS as is.
type AzurePodIdentityExceptionSpec struct {
	// PodLabels must all be present, with exactly these values, on an exempt
	// pod; a listed value "" matches only a pod that carries the label with
	// an empty value, not a pod without it.
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

// Exempts reports whether the exception covers a pod of namespace ns with
// the given labels, for the controller and the node agent alike: the
// exception is in the pod's namespace, lists at least one label, and the pod
// carries every listed label with exactly the listed value.
//
// A listed value "" matches only a pod that carries the key with an empty
// value. aad-pod-identity compared podLabels[k] == v, so a pod without the
// key matched "" too; podid does not, because an exemption hands the pod
// the node's own identity and must be granted only to pods that carry the
// labels it names (fail closed).
func (e *AzurePodIdentityException) Exempts(ns string, podLabels map[string]string) bool {
	if e.Namespace != ns || len(e.Spec.PodLabels) == 0 {
		return false
	}
	for k, v := range e.Spec.PodLabels {
		if got, ok := podLabels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
