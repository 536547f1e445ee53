package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/tokens"
)

// kubeletDir is the kubelet root the agent of node reads projected tokens from.
func kubeletDir(node string) string { return filepath.Join(s.env.Dir, "kubelet-"+node) }

// workloadPod is a pod as azure-workload-identity's webhook leaves it: the
// label, a projected token for Azure AD's audience, and the environment.
func workloadPod(ns, name, account, clientID string) *corev1.Pod {
	p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: name, Node: s.env.Nodes[0].Name, ServiceAccount: account,
		Labels: map[string]string{"azure.workload.identity/use": "true"}})
	expiry := int64(3600)
	p.Spec.Volumes = []corev1.Volume{{Name: "azure-identity-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: tokens.FederatedAudience, ExpirationSeconds: &expiry, Path: "azure-identity-token"}}}}}}}
	p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "AZURE_CLIENT_ID", Value: clientID}, {Name: "AZURE_TENANT_ID", Value: tenantID},
		{Name: "AZURE_FEDERATED_TOKEN_FILE", Value: "/var/run/secrets/azure/tokens/azure-identity-token"}}
	return p
}

// projectToken does the kubelet's part for pod: it asks the API server for
// a token of the pod's service account bound to the pod, with Azure AD's
// audience, and writes it where the kubelet would.
func projectToken(ctx context.Context, t *testing.T, pod *corev1.Pod) string {
	t.Helper()
	exp := int64(3600)
	tr, err := s.env.Kube.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, pod.Spec.ServiceAccountName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{tokens.FederatedAudience}, ExpirationSeconds: &exp,
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("request a token for pod %s: %v", pod.Name, err)
	}
	dir := filepath.Join(kubeletDir(pod.Spec.NodeName), "pods", string(pod.UID), "volumes", "kubernetes.io~projected", "azure-identity-token")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "azure-identity-token"), []byte(tr.Status.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// TestWorkloadIdentityPodCallingIMDSGetsTokensByItsOwnToken: an unmodified
// application in a workload-identity pod calls the IMDS endpoint; the agent
// exchanges the pod's own projected token, so Azure AD decides by the
// pod's service account, not by its address. A pod of another account
// naming the same client ID is refused by Azure AD, and no token of the
// first pod's is handed to it from the cache.
func TestWorkloadIdentityPodCallingIMDSGetsTokensByItsOwnToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	id := managedIdentity(t, wiIdentity)
	for _, sa := range []string{"trusted", "stranger"} {
		if _, err := s.env.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	fic := cloud.FederatedCredential{Name: "wi-" + ns, Issuer: s.env.ControlPlane.Issuer, Subject: "system:serviceaccount:" + ns + ":trusted", Audiences: []string{tokens.FederatedAudience}}
	if err := s.cloud.AddFederatedCredential(id.ID, fic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = s.cloud.DeleteFederatedCredential(id.ID, fic.Name) })

	create(ctx, t, workloadPod(ns, "app", "trusted", id.ClientID))
	pod := waitRunning(ctx, t, ns, "app")
	projectToken(ctx, t, pod)
	c := podCaller(t, pod)
	p := identityPrincipal(id)
	for name, cred := range map[string]func() azcore.TokenCredential{
		"ManagedIdentityCredential without an ID":     func() azcore.TokenCredential { return c.managedIdentity(t, nil, false) },
		"ManagedIdentityCredential naming the client": func() azcore.TokenCredential { return c.managedIdentity(t, azidentity.ClientID(id.ClientID), false) },
		"DefaultAzureCredential":                      func() azcore.TokenCredential { return c.defaultCredential(t) },
	} {
		t.Run(name, func(t *testing.T) {
			res := freshResource(id.Name)
			tok, err := token(ctx, cred(), res)
			if err != nil {
				t.Fatalf("get token: %v", err)
			}
			checkToken(t, tok.Token, res, p)
		})
	}
	// The agent cannot tell a workload-identity pod's resource ID from its
	// spec (only the client ID is there): IMDS's own refusal.
	if a := c.get(t, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="+freshResource(id.Name)+"&msi_res_id="+id.ID, true); a.status != 400 || !strings.Contains(a.body, "Identity not found") {
		t.Fatalf("msi_res_id of a workload-identity pod: %d %s", a.status, a.body)
	}

	// The kubelet rotates the file; the next exchange reads the new token.
	projectToken(ctx, t, pod)
	if _, err := token(ctx, c.managedIdentity(t, nil, true), freshResource(id.Name)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}

	// Same client ID, another service account: Azure AD refuses its token.
	create(ctx, t, workloadPod(ns, "stranger", "stranger", id.ClientID))
	stranger := waitRunning(ctx, t, ns, "stranger")
	projectToken(ctx, t, stranger)
	a := podCaller(t, stranger).get(t, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="+freshResource(id.Name), true)
	if a.status == 200 || !strings.Contains(a.body, "AADSTS70021") {
		t.Fatalf("a pod of an untrusted account got %d %s; want Azure AD's AADSTS70021 refusal", a.status, a.body)
	}
	// The refusal is explained on the stranger's service account.
	if err := s.env.WaitForEvent(ctx, ns, "stranger", "TokenRequestRefused", "no federated credential of the client ID trusts this service account", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// podid doctor reads it back from the cluster: wi-token-refusals fails
	// on the stranger's account with the agent's fix.
	dc, err := client.New(s.env.Config, client.Options{Scheme: doctor.Scheme(kubeclient.Scheme())})
	if err != nil {
		t.Fatal(err)
	}
	f, err := doctor.Gather(ctx, dc, doctor.GatherOptions{Scope: doctor.Scope{Namespace: ns}})
	if err != nil {
		t.Fatal(err)
	}
	var refusal *doctor.Finding
	for _, fd := range doctor.Run(f, doctor.Checks()).Findings {
		if fd.Check == "wi-token-refusals" && fd.Object == "ServiceAccount "+ns+"/stranger" {
			refusal = &fd
		}
	}
	if refusal == nil || refusal.Status != doctor.Fail || !strings.Contains(refusal.Message, "AADSTS70021") || refusal.Fix == "" {
		t.Fatalf("podid doctor's wi-token-refusals on ServiceAccount %s/stranger: %+v; want a failure naming AADSTS70021 with a fix", ns, refusal)
	}
	// Even for a resource the trusted pod already holds a cached token of.
	res := freshResource(id.Name)
	if _, err := token(ctx, c.managedIdentity(t, nil, true), res); err != nil {
		t.Fatal(err)
	}
	if a := podCaller(t, stranger).get(t, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="+res, true); a.status == 200 {
		t.Fatalf("the untrusted pod was served the trusted pod's cached token")
	}
}
