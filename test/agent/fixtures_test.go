package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/testenv"
)

// managedIdentity returns the cloud's user-assigned identity called name.
func managedIdentity(t testing.TB, name string) cloud.Identity {
	t.Helper()
	id, ok := s.cloud.IdentityByName(name)
	if !ok {
		t.Fatalf("identity %s missing from the test world", name)
	}
	return id
}

// azureIdentity is a type 0 AzureIdentity for a cloud identity; mode ""
// keeps the cluster default (federated).
func azureIdentity(ns, name string, id cloud.Identity, mode string) *podidv1.AzureIdentity {
	ai := &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: id.ClientID, ResourceID: id.ID},
	}
	if mode != "" {
		ai.Annotations = map[string]string{podidv1.TokenModeAnnotation: mode}
	}
	return ai
}

func binding(ns, name, identity, selector string) *podidv1.AzureIdentityBinding {
	return &podidv1.AzureIdentityBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: identity, Selector: selector},
	}
}

func create(ctx context.Context, t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := s.env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// runPod creates a pod and waits until kwok runs it with an IP.
func runPod(ctx context.Context, t testing.TB, spec testenv.PodSpec) *corev1.Pod {
	t.Helper()
	if _, err := s.env.Kube.CoreV1().Pods(spec.Namespace).Create(ctx, testenv.Pod(spec), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", spec.Name, err)
	}
	return waitRunning(ctx, t, spec.Namespace, spec.Name)
}

func waitRunning(ctx context.Context, t testing.TB, ns, name string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := s.env.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		pod = p
		return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "", nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s not Running with an IP: %v (last status %+v)", ns, name, err, pod.Status)
	}
	return pod
}

// waitAssigned waits until the pod's assignment of identity is Assigned.
func waitAssigned(ctx context.Context, t testing.TB, ns, pod, identity string) {
	t.Helper()
	var last []string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 40*time.Second, true, func(ctx context.Context) (bool, error) {
		var list podidv1.AzureAssignedIdentityList
		if err := s.env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		last = last[:0]
		for _, a := range list.Items {
			last = append(last, a.Name+" "+a.Status.Status)
			if a.Spec.Pod == pod && a.Spec.AzureIdentityRef != nil && a.Spec.AzureIdentityRef.Name == identity &&
				a.Status.Status == podidv1.AssignedIDAssigned {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("assignment of %s to pod %s/%s not Assigned: %v (have %q)", identity, ns, pod, err, last)
	}
}

// checkToken verifies tok against the tenant's JWKS and checks that it is
// for resource and for p: its object ID and, for a managed identity, its
// resource ID.
func checkToken(t testing.TB, tok, resource string, p principal) {
	t.Helper()
	ce := &cloudtest.Env{Cloud: s.cloud, URL: s.cloud.URL(), HTTPClient: s.cloudHTTP}
	claims := ce.VerifyToken(t, tenantID, tok)
	if got, _ := claims["appid"].(string); !strings.EqualFold(got, p.clientID) {
		t.Errorf("appid = %q, want %q", got, p.clientID)
	}
	if got, _ := claims["aud"].(string); got != resource {
		t.Errorf("aud = %q, want %q", got, resource)
	}
	if got, _ := claims["oid"].(string); !strings.EqualFold(got, p.objectID) {
		t.Errorf("oid = %q, want %q", got, p.objectID)
	}
	got, _ := claims["xms_mirid"].(string)
	if !strings.EqualFold(got, p.resourceID) {
		t.Errorf("xms_mirid = %q, want %q", got, p.resourceID)
	}
}
