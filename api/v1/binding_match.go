package v1

// BindingSelects reports whether binding b selects a pod carrying these
// labels: the binding is not being deleted, has a selector, and the
// selector equals the pod's aadpodidbinding label (plain string equality,
// not a label selector), as the controller matches pods to bindings. The
// node agent checks assignments with it.
func BindingSelects(b *AzureIdentityBinding, podLabels map[string]string) bool {
	if b == nil || b.DeletionTimestamp != nil || b.Spec.Selector == "" {
		return false
	}
	v, ok := podLabels[SelectorLabel]
	return ok && v == b.Spec.Selector
}

// BindingServes reports whether binding b may give its identity id (the
// AzureIdentity its spec.azureIdentity names in its own namespace; nil when
// it does not exist) to a pod of namespace podNamespace.
//
// A binding serves pods of its own namespace. With clusterWide (the
// controller's --cluster-wide-bindings, aad-pod-identity's old default) it
// also serves pods of every other namespace, unless the identity is
// annotated BehaviorAnnotation: BehaviorNamespaced.
//
// This is the one rule: the controller decides assignments with it and the
// node agent honours an assignment only if it holds for the live objects.
func BindingServes(b *AzureIdentityBinding, id *AzureIdentity, podNamespace string, clusterWide bool) bool {
	if b == nil {
		return false
	}
	if b.Namespace == podNamespace {
		return true
	}
	if !clusterWide {
		return false
	}
	return id == nil || id.Annotations[BehaviorAnnotation] != BehaviorNamespaced
}
