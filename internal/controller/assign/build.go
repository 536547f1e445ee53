package assign

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// build returns the AzureAssignedIdentity object for a, as it should be
// stored: named and labelled as aad-pod-identity did, so its node agents
// and scripts still find it, carrying the identity's resolved token mode,
// which the node agent obeys, and the pod's UID (podidv1.PodUIDAnnotation),
// by which this controller and the node agent tell it from an assignment
// made for an earlier pod of the same name.
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
	if a.Pod.UID != "" {
		obj.Annotations = map[string]string{podidv1.PodUIDAnnotation: a.Pod.UID}
	}
	if needsCloud {
		obj.Finalizers = []string{podidv1.AssignedIdentityFinalizer}
	}
	return obj
}

// madeForAnotherPod says why a stored assignment of a pod's name was made
// for another pod than p, or "" when it is p's own. A pod deleted and
// recreated under its name (a StatefulSet pod, most often on another node)
// is another pod: in node mode its identity must be put on its own node's
// machine and taken off the old one, which only a new assignment does (the
// old one's deletion makes the cloud worker release the identity, and the
// new one starts at Created, so its status never says Assigned before the
// new machine holds the identity). An assignment without a recorded UID
// (aad-pod-identity's, or an older podid's) on p's node is taken as p's: its
// identity is on the right machine, and updating it records the UID.
func madeForAnotherPod(have *podidv1.AzureAssignedIdentity, p Pod) string {
	if have.Spec.NodeName != p.NodeName {
		return fmt.Sprintf("it was made for pod %s/%s on node %q and the pod now runs on node %q", p.Namespace, p.Name, have.Spec.NodeName, p.NodeName)
	}
	uid, recorded := have.Annotations[podidv1.PodUIDAnnotation]
	if recorded && p.UID != "" && uid != p.UID {
		return fmt.Sprintf("it was made for an earlier pod %s/%s with UID %s and the pod now has UID %s", p.Namespace, p.Name, uid, p.UID)
	}
	return ""
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
		have.Labels[podidv1.NodeNameLabel] != want.Labels[podidv1.NodeNameLabel] ||
		have.Annotations[podidv1.PodUIDAnnotation] != want.Annotations[podidv1.PodUIDAnnotation]
}
