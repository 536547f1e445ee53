package agent

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// TestNodeModeServicePrincipalUsesItsSecretFromTheCluster: a type 1
// identity whose client secret is in a Kubernetes Secret; the agent reads
// the Secret and gets the pod a token of the application from the cloud.
func TestNodeModeServicePrincipalUsesItsSecretFromTheCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	app, ok := s.cloud.Application(spApp)
	if !ok {
		t.Fatalf("application %s missing from the test world", spApp)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp-secret"},
		Data: map[string][]byte{"clientsecret": []byte(spSecret)}}
	ai := &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp", Annotations: map[string]string{podidv1.TokenModeAnnotation: podidv1.TokenModeNode}},
		Spec: podidv1.AzureIdentitySpec{Type: podidv1.ServicePrincipal, ClientID: app.AppID, TenantID: tenantID,
			ClientPassword: &corev1.SecretReference{Name: secret.Name, Namespace: ns}},
	}
	create(ctx, t, secret, ai, binding(ns, "sp-binding", "sp", "sp-app"))
	pod := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "app", Node: s.env.Nodes[0].Name,
		Labels: map[string]string{podidv1.SelectorLabel: "sp-app"}})

	everyClientGetsTheIdentity(ctx, t, podCaller(t, pod), principal{name: app.Name, clientID: app.AppID, objectID: app.ObjectID})
}
