package agent

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// TestObjectIDNamesOneOfThePodsIdentities: a pod bound to a managed
// identity (federated) and a service principal (its secret) asks for each by
// object ID, which the AzureIdentity API does not carry; the agent learns it
// from the identities' tokens. An object ID the pod has no identity of gets
// IMDS's 400.
func TestObjectIDNamesOneOfThePodsIdentities(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	mi := managedIdentity(t, fedIdentity)
	app, ok := s.cloud.Application(spApp)
	if !ok {
		t.Fatalf("application %s missing from the test world", spApp)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp-secret"},
		Data: map[string][]byte{"clientsecret": []byte(spSecret)}}
	sp := &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp", Annotations: map[string]string{podidv1.TokenModeAnnotation: podidv1.TokenModeNode}},
		Spec: podidv1.AzureIdentitySpec{Type: podidv1.ServicePrincipal, ClientID: app.AppID, TenantID: tenantID,
			ClientPassword: &corev1.SecretReference{Name: secret.Name, Namespace: ns}},
	}
	create(ctx, t, secret, sp, azureIdentity(ns, "fed", mi, ""), binding(ns, "b-sp", "sp", "two"), binding(ns, "b-fed", "fed", "two"))
	pod := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "app", Node: s.env.Nodes[0].Name,
		Labels: map[string]string{podidv1.SelectorLabel: "two"}})
	waitAssigned(ctx, t, ns, pod.Name, "sp")
	waitAssigned(ctx, t, ns, pod.Name, "fed")
	c := podCaller(t, pod)

	for _, p := range []principal{
		identityPrincipal(mi),
		{name: app.Name, clientID: app.AppID, objectID: app.ObjectID},
	} {
		t.Run(p.name, func(t *testing.T) {
			res := freshResource(p.name)
			tok, err := token(ctx, c.managedIdentity(t, azidentity.ObjectID(strings.ToUpper(p.objectID)), false), res)
			if err != nil {
				t.Fatalf("get token by object ID: %v", err)
			}
			checkToken(t, tok.Token, res, p)
		})
	}

	const unknown = "0bad0bad-0000-4000-8000-000000000000"
	got := c.get(t, tokenPath(freshResource("nobody"))+"&"+url.Values{"object_id": {unknown}}.Encode(), true)
	want := `{"error":"invalid_request","error_description":"Identity not found: pod ` + ns + `/app has no identity with object_id ` + unknown
	if got.status != 400 || !strings.HasPrefix(got.body, want) {
		t.Fatalf("answer %d %s, want 400 starting %s", got.status, got.body, want)
	}
}
