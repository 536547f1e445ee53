package wi

import corev1 "k8s.io/api/core/v1"

// DefaultServiceAccount is the ServiceAccount a pod without
// serviceAccountName runs as.
const DefaultServiceAccount = "default"

// ServiceAccountOf is the ServiceAccount a pod of spec runs as: the one
// whose token the kubelet projects, whose annotations the webhook reads and
// whose subject a federated credential must name.
func ServiceAccountOf(spec *corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	return DefaultServiceAccount
}
