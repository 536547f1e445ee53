package assign

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// build returns the AzureAssignedIdentity object for a, as it should be
// stored: named and labelled as aad-pod-identity did, so its node agents
// and scripts still find it, and carrying the identity's resolved token
// mode, which the node agent obeys.
func build(a Assignment, tokenMode string, needsCloud bool) *podidv1.AzureAssignedIdentity {
	obj := &podidv1.AzureAssignedIdentity{
		TypeMeta: metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureAssignedIdentity},
		ObjectMeta: metav1.ObjectMeta{
			Name:      a.Name,
			Namespace: a.Namespace,
			Labels:    map[string]string{podidv1.NodeNameLabel: a.Pod.NodeName},
		},
		Spec: podidv1.AzureAssignedIdentitySpec{
			AzureIdentityRef: identityRef(a.Identity),
			AzureBindingRef:  bindingRefCopy(a.Binding),
			Pod:              a.Pod.Name,
			PodNamespace:     a.Pod.Namespace,
			NodeName:         a.Pod.NodeName,
			TokenMode:        tokenMode,
		},
	}
	if needsCloud {
		obj.Finalizers = []string{podidv1.AssignedIdentityFinalizer}
	}
	return obj
}

// identityRef copies what the node agent needs of an identity, without the
// server-managed metadata that would make every copy differ.
func identityRef(id *podidv1.AzureIdentity) *podidv1.AzureIdentity {
	return &podidv1.AzureIdentity{
		TypeMeta: metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureIdentity},
		ObjectMeta: metav1.ObjectMeta{
			Name: id.Name, Namespace: id.Namespace, UID: id.UID,
			Annotations: id.Annotations,
		},
		Spec: *id.Spec.DeepCopy(),
	}
}

func bindingRefCopy(b *podidv1.AzureIdentityBinding) *podidv1.AzureIdentityBinding {
	return &podidv1.AzureIdentityBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureIdentityBinding},
		ObjectMeta: metav1.ObjectMeta{Name: b.Name, Namespace: b.Namespace, UID: b.UID},
		Spec:       b.Spec,
	}
}

// specOutdated reports whether a stored assignment differs from the one
// wanted in what the node agent reads.
func specOutdated(have, want *podidv1.AzureAssignedIdentity) bool {
	return !equality.Semantic.DeepEqual(have.Spec, want.Spec) ||
		have.Labels[podidv1.NodeNameLabel] != want.Labels[podidv1.NodeNameLabel]
}
