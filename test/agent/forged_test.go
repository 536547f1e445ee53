package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// holdFinalizer keeps the forged assignment in the API, and so in the
// agent's cache, should mic reconcile the pod and delete it as undesired
// (mic does not react to the creation of an assignment).
const holdFinalizer = "podid.test/hold"

// TestAForgedAssignmentGrantsNothing: someone who can write
// AzureAssignedIdentity objects forges one, status Assigned, giving an
// unlabelled pod the identity a binding gives labelled pods, with exact
// copies of the live identity and binding. The agent checks it against the
// live objects: the pod's label is not the binding's selector, so the
// unlabelled pod gets no token, while the labelled pod, assigned by mic,
// gets the identity's token.
func TestAForgedAssignmentGrantsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	node := s.env.Nodes[0].Name
	id := managedIdentity(t, fedIdentity)
	ai, b := azureIdentity(ns, "fed", id, ""), binding(ns, "fed-binding", "fed", "bound")
	create(ctx, t, ai, b)
	good := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "good", Node: node,
		Labels: map[string]string{podidv1.SelectorLabel: "bound"}})
	bare := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "bare", Node: node})
	waitAssigned(ctx, t, ns, "good", "fed")

	idCopy, bCopy := ai.DeepCopy(), b.DeepCopy()
	idCopy.TypeMeta = metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureIdentity}
	bCopy.TypeMeta = metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureIdentityBinding}
	forged := &podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare-" + ns + "-fed",
			Labels: map[string]string{podidv1.NodeNameLabel: node}, Finalizers: []string{holdFinalizer}},
		Spec: podidv1.AzureAssignedIdentitySpec{Pod: "bare", PodNamespace: ns, NodeName: node,
			AzureIdentityRef: idCopy, AzureBindingRef: bCopy},
		Status: podidv1.AzureAssignedIdentityStatus{Status: podidv1.AssignedIDAssigned},
	}
	create(ctx, t, forged)
	t.Cleanup(func() { release(t, client.ObjectKeyFromObject(forged)) })

	t.Run("The labelled pod gets the identity's token", func(t *testing.T) {
		res := freshResource("good")
		tok, err := token(ctx, podCaller(t, good).managedIdentity(t, azidentity.ClientID(id.ClientID), false), res)
		if err != nil {
			t.Fatalf("get token: %v", err)
		}
		checkToken(t, tok.Token, res, identityPrincipal(id))
	})
	t.Run("The unlabelled pod named by the forged assignment gets none", func(t *testing.T) {
		got := podCaller(t, bare).get(t, tokenPath(freshResource("forged")), true)
		if got.status != 400 || !strings.Contains(got.body, "Identity not found") {
			t.Errorf("answer = %d %s, want 400 Identity not found", got.status, got.body)
		}
		if _, err := token(ctx, podCaller(t, bare).managedIdentity(t, azidentity.ClientID(id.ClientID), true), freshResource("forged")); err == nil {
			t.Error("ManagedIdentityCredential got a token through the forged assignment")
		}
	})
	var still podidv1.AzureAssignedIdentity
	if err := s.env.Client.Get(ctx, client.ObjectKeyFromObject(forged), &still); err != nil || still.Status.Status != podidv1.AssignedIDAssigned {
		t.Fatalf("the forged assignment was not in place, Assigned, throughout: %v %q", err, still.Status.Status)
	}
}

// release drops the hold finalizer so the forged assignment can go.
func release(t testing.TB, key client.ObjectKey) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var a podidv1.AzureAssignedIdentity
	if err := s.env.Client.Get(ctx, key, &a); err != nil {
		return
	}
	if controllerutil.RemoveFinalizer(&a, holdFinalizer) {
		if err := s.env.Client.Update(ctx, &a); err != nil {
			t.Errorf("release forged assignment: %v", err)
		}
	}
}
