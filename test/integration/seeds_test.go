package integration

import (
	"context"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/normalize"
)

// legacyKeys are spellings that must not survive normalisation.
var legacyKeys = []string{"ResourceID", "ClientID", "TenantId", "TenantID", "ClientPassword", "AzureIdentity", "Selector"}

func TestSeed002ManifestsKeepEveryPascalCaseValue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := env.NewNamespace(t)
	applyFile(ctx, t, "testdata/seed002.yaml", ns)

	msi := waitCanonical[*podidv1.AzureIdentity](ctx, t, ns, "azureaccess", &podidv1.AzureIdentity{})
	wantEqual(t, "azureaccess type", msi.Spec.Type, podidv1.UserAssignedMSI)
	wantEqual(t, "azureaccess resourceID", msi.Spec.ResourceID, "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/MC_AzurePodIdentityDemo_podidentitydemo_northeurope/providers/Microsoft.ManagedIdentity/userAssignedIdentities/podidentitydemo")
	wantEqual(t, "azureaccess clientID", msi.Spec.ClientID, "e0746c13-5a12-4b2c-9d5e-2f1f1f4a0f68")

	sp := waitCanonical[*podidv1.AzureIdentity](ctx, t, ns, "spaccess", &podidv1.AzureIdentity{})
	wantEqual(t, "spaccess type", sp.Spec.Type, podidv1.ServicePrincipal)
	wantEqual(t, "spaccess tenantID", sp.Spec.TenantID, "2e319086-9a26-46a3-865f-615bed576786")
	wantEqual(t, "spaccess clientID", sp.Spec.ClientID, "5a1c0e2b-7f43-4d8e-9c61-3b2a4f6e8d90")
	if sp.Spec.ClientPassword == nil {
		t.Fatalf("spaccess clientPassword was lost")
	}
	wantEqual(t, "spaccess clientPassword", *sp.Spec.ClientPassword, corev1.SecretReference{Name: "spaccess-secret", Namespace: "default"})

	for name, selector := range map[string]string{"azureaccess": "azure-access", "spaccess": "sp-access"} {
		b := waitCanonical[*podidv1.AzureIdentityBinding](ctx, t, ns, name, &podidv1.AzureIdentityBinding{})
		wantEqual(t, name+" binding azureIdentity", b.Spec.AzureIdentity, name)
		wantEqual(t, name+" binding selector", b.Spec.Selector, selector)
	}

	var pod corev1.Pod
	getObject(ctx, t, ns, "podidentitydemo", &pod)
	wantEqual(t, "pod label", pod.Labels[podidv1.SelectorLabel], "azure-access")

	wantEvent(ctx, t, ns, "azureaccess", normalize.ReasonNormalized, "spec.ResourceID to spec.resourceID")
}

func TestSeed004ManifestsApplyAsWritten(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	applyFile(ctx, t, "testdata/seed004.yaml", "default")
	const ns = "aad-pod-identity-poc"
	t.Cleanup(func() { env.DeleteNamespace(t, ns) })

	id := waitCanonical[*podidv1.AzureIdentity](ctx, t, ns, "aad-user-identity", &podidv1.AzureIdentity{})
	wantEqual(t, "type", id.Spec.Type, podidv1.UserAssignedMSI)
	wantEqual(t, "resourceID", id.Spec.ResourceID, "/subscriptions/99a3af26-911d-4bc5-8fcc-8f9de81e46c5/resourceGroups/rg-westus2-shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-aad-user-identity")
	wantEqual(t, "clientID", id.Spec.ClientID, "248b3285-aa4c-436f-b0da-8ab35ba2d14a")

	b := waitCanonical[*podidv1.AzureIdentityBinding](ctx, t, ns, "aad-user-identity-binding", &podidv1.AzureIdentityBinding{})
	wantEqual(t, "azureIdentity", b.Spec.AzureIdentity, "aad-user-identity")
	wantEqual(t, "selector", b.Spec.Selector, "bind-user-identity-keyvault")

	var d appsv1.Deployment
	getObject(ctx, t, ns, "az-keyvault-reader-test", &d)
	wantEqual(t, "deployment pod label", d.Spec.Template.Labels[podidv1.SelectorLabel], "bind-user-identity-keyvault")
	wantEqual(t, "deployment containers", len(d.Spec.Template.Spec.Containers), 2)
	wantEqual(t, "sidecar vault env", d.Spec.Template.Spec.Containers[1].Env[0].Value, "kv-westus2-aks")

	// The Deployment runs as applied: kube-controller-manager makes its
	// pods, kube-scheduler puts them on nodes, and mic assigns each the
	// identity its label binds.
	want := int(*d.Spec.Replicas)
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{podidv1.SelectorLabel: "bind-user-identity-keyvault"}); err != nil {
			return false, nil
		}
		var assigned podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &assigned, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		running := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				running++
			}
		}
		return running == want && len(assigned.Items) == want, nil
	})
	if err != nil {
		t.Fatalf("the seed's Deployment never got %d scheduled, Running pods with an assignment each: %v", want, err)
	}
}

func applyFile(ctx context.Context, t *testing.T, path, ns string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ApplyYAML(ctx, data, ns); err != nil {
		t.Fatalf("apply %s: %v", path, err)
	}
}

// waitCanonical waits until the stored object carries no legacy spelling,
// then returns it decoded into obj.
func waitCanonical[T client.Object](ctx context.Context, t *testing.T, ns, name string, obj T) T {
	t.Helper()
	var leftover []string
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		u := &unstructured.Unstructured{}
		gvks, _, err := env.Scheme.ObjectKinds(obj)
		if err != nil {
			return false, err
		}
		u.SetGroupVersionKind(gvks[0])
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, u); err != nil {
			return false, nil
		}
		spec, _, _ := unstructured.NestedMap(u.Object, "spec")
		leftover = leftover[:0]
		for _, k := range legacyKeys {
			if _, ok := spec[k]; ok {
				leftover = append(leftover, k)
			}
		}
		return len(leftover) == 0, nil
	})
	if err != nil {
		t.Fatalf("%s/%s still has legacy fields %v: %v", ns, name, leftover, err)
	}
	getObject(ctx, t, ns, name, obj)
	return obj
}

func getObject(ctx context.Context, t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("get %s/%s: %v", ns, name, err)
	}
}

func wantEqual[V comparable](t *testing.T, what string, got, want V) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
