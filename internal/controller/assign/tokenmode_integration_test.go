package assign_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/controller/normalize"
	"github.com/podid/podid/internal/testenv"
)

const (
	clientID   = "7c2a4f7e-3b1d-4c55-9a63-2f0e8d1b6a90"
	tenantID   = "0f6b0f4e-8d1c-4a52-b3a9-6c4e1f2d7a38"
	resourceID = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
)

// TestMicWritesTheResolvedTokenModeOntoAssignments runs mic, in its default
// federated mode, on a real API server and reads spec.tokenMode back from
// each assignment: the node agent obeys it, so it must be the mode the one
// shared rule (podidv1.ResolveTokenMode) gives.
func TestMicWritesTheResolvedTokenModeOntoAssignments(t *testing.T) {
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := controller.NewOptions()
	opts.TokenMode = podidv1.TokenModeFederated
	micCtx, stopMIC := context.WithCancel(ctx)
	waitMIC, err := env.RunMIC(micCtx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stopMIC(); _ = waitMIC() }()
	ns := env.NewNamespace(t)

	secret := &corev1.SecretReference{Name: "sp-secret", Namespace: ns}
	cases := map[string]struct {
		typ        podidv1.IdentityType
		annotation string
		want       string
	}{
		"msi":      {want: podidv1.TokenModeFederated},
		"msi-node": {annotation: "node", want: podidv1.TokenModeNode},
		"msi-typo": {annotation: "imds", want: podidv1.TokenModeFederated},
		"sp":       {typ: podidv1.ServicePrincipal, want: podidv1.TokenModeNode},
		"sp-fed":   {typ: podidv1.ServicePrincipal, annotation: "Federated", want: podidv1.TokenModeFederated},
		"cert":     {typ: podidv1.ServicePrincipalCertificate, want: podidv1.TokenModeNode},
	}
	for name, tc := range cases {
		id := &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: podidv1.AzureIdentitySpec{Type: tc.typ, ClientID: clientID}}
		if tc.typ == podidv1.UserAssignedMSI {
			id.Spec.ResourceID = resourceID
		} else {
			id.Spec.TenantID, id.Spec.ClientPassword = tenantID, secret
		}
		if tc.annotation != "" {
			id.Annotations = map[string]string{podidv1.TokenModeAnnotation: tc.annotation}
		}
		b := &podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: name, Selector: name}}
		for _, o := range []client.Object{id, b} {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Fatalf("create %T %s: %v", o, name, err)
			}
		}
		p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: "pod-" + name, Node: env.Nodes[0].Name,
			Labels: map[string]string{podidv1.SelectorLabel: name}})
		if err := env.CreatePods(ctx, []*corev1.Pod{p}, 1); err != nil {
			t.Fatal(err)
		}
	}

	got := map[string]string{} // identity -> spec.tokenMode
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var list podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		clear(got)
		for _, a := range list.Items {
			if a.Spec.AzureIdentityRef != nil {
				got[a.Spec.AzureIdentityRef.Name] = a.Spec.TokenMode
			}
		}
		return len(got) == len(cases), nil
	})
	if err != nil {
		t.Fatalf("assignments by identity %v, want one for each of %d identities", got, len(cases))
	}
	for name, tc := range cases {
		if got[name] != tc.want {
			t.Errorf("identity %s (type %s, annotation %q): assignment's spec.tokenMode %q, want %q", name, tc.typ, tc.annotation, got[name], tc.want)
		}
	}

	// The invalid annotation is explained on the identity, naming the valid values.
	if err := env.WaitForEvent(ctx, ns, "msi-typo", normalize.ReasonInvalidTokenMode, `Set it to "federated" or "node"`, 20*time.Second); err != nil {
		t.Error(err)
	}
}
