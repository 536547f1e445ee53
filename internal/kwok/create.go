package kwok

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// CreateNode creates the node and sets its status. The apiserver drops
// status on create, and kwok or kube-controller-manager may write the node
// before we do, so the status is written on the latest version, retried on
// conflict; kwok takes the pods' hostIP from these addresses.
func CreateNode(ctx context.Context, kube kubernetes.Interface, spec NodeSpec) (*corev1.Node, error) {
	want := Node(spec)
	node, err := kube.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create node %s: %w", spec.Name, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := kube.CoreV1().Nodes().Get(ctx, spec.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		latest.Status.Addresses, latest.Status.Capacity, latest.Status.Allocatable = want.Status.Addresses, want.Status.Capacity, want.Status.Allocatable
		node, err = kube.CoreV1().Nodes().UpdateStatus(ctx, latest, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set status of node %s: %w", spec.Name, err)
	}
	return node, nil
}
