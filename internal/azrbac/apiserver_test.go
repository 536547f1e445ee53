package azrbac_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/podid/podid/internal/azrbac"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/controlplane"
)

const (
	tenant     = "7d6e5f4a-3b2c-4d1e-8f0a-9b8c7d6e5f4a"
	sub        = "8e7f6a5b-4c3d-4e2f-9a1b-0c9d8e7f6a5b"
	aliceOID   = "a11ce000-0000-4000-8000-0000000000c1"
	bobOID     = "b0b00000-0000-4000-8000-0000000000c2"
	carolOID   = "ca401000-0000-4000-8000-0000000000c3"
	devsOID    = "de500000-0000-4000-8000-0000000000c4"
	platformID = "91a7f000-0000-4000-8000-0000000000c5"
	clusterID  = "/subscriptions/" + sub + "/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-poc"
)

// world: alice in no group; bob and carol in devs, which is in platform.
const world = `
tenants:
  - id: ` + tenant + `
    subscriptions:
      - id: ` + sub + `
        resourceGroups:
          - name: rg-aks
            managedClusters:
              - name: aks-poc
    users:
      - {userPrincipalName: alice@contoso.com, password: pw, objectId: ` + aliceOID + `}
      - {userPrincipalName: bob@contoso.com, password: pw, objectId: ` + bobOID + `}
      - {userPrincipalName: carol@contoso.com, password: pw, objectId: ` + carolOID + `}
    groups:
      - {name: devs, objectId: ` + devsOID + `, members: [bob@contoso.com, carol@contoso.com]}
      - {name: platform, objectId: ` + platformID + `, members: [devs]}
`

// Cache TTLs kube-apiserver keeps webhook answers for. AKS's guard caches
// on its side; podid's webhook does not, so these bound how long a grant
// (unauthorized TTL) or a revoke (authorized TTL) takes to apply.
const (
	authorizedTTL   = 2 * time.Second
	unauthorizedTTL = 0
)

func TestKubeAPIServerAuthorizesWithAzureRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := controlplane.EnsureBinaries(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := cloudtest.StartYAML(t, world)

	cert, caPEM, err := azrbac.SelfSignedCert([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := azrbac.NewServer("127.0.0.1:0", cert, azrbac.Policy{ClusterID: clusterID, AllowDiscovery: true},
		azrbac.CloudDirectory{Cloud: env.Cloud}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	dir := t.TempDir()
	kc, err := azrbac.WebhookKubeconfig(srv.URL(), caPEM)
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(dir, "azure-rbac-webhook.kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: bin, Dir: dir, ExtraAPIServerArgs: []string{
		// Kubernetes RBAC first, then Azure (the webhook denies outright).
		// The flag is a list and controlplane already passes Node,RBAC:
		// a second occurrence appends.
		"--authorization-mode=Webhook",
		"--authorization-webhook-config-file=" + kcPath,
		"--authorization-webhook-version=v1",
		"--authorization-webhook-cache-authorized-ttl=" + authorizedTTL.String(),
		"--authorization-webhook-cache-unauthorized-ttl=" + time.Duration(unauthorizedTTL).String(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Stop)
	admin := kubernetes.NewForConfigOrDie(cp.Config)
	for _, ns := range []string{"dev", "prod"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	person := func(cn string, groups ...string) *kubernetes.Clientset {
		return kubernetes.NewForConfigOrDie(clientCertConfig(t, cp, cn, groups))
	}
	alice := person("alice@contoso.com")
	bob := person("bob@contoso.com", devsOID)
	carol := person("carol@contoso.com") // groups only in the directory
	mallory := person("mallory")         // not an Azure AD user

	listPods := func(c *kubernetes.Clientset, ns string) error {
		_, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		return err
	}
	createConfigMap := func(c *kubernetes.Clientset, ns, name string) error {
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		return err
	}

	// With no role, Azure denies in AKS's words.
	err = listPods(alice, "dev")
	wantForbidden(t, err, `pods is forbidden: User "alice@contoso.com" cannot list resource "pods" in API group "" in the namespace "dev"`, azrbac.ReasonDenied)

	// A namespace-scoped Reader grant applies within seconds.
	if _, err := env.Cloud.GrantRole(aliceOID, "Azure Kubernetes Service RBAC Reader", clusterID+"/namespaces/dev"); err != nil {
		t.Fatal(err)
	}
	grantTook := eventually(t, 10*time.Second, func() error { return listPods(alice, "dev") })
	t.Logf("FIGURE grant -> allowed: %v", grantTook.Round(time.Millisecond))

	wantForbidden(t, listPods(alice, "prod"), `in the namespace "prod"`, azrbac.ReasonDenied)
	wantForbidden(t, createConfigMap(alice, "dev", "by-alice"), `cannot create resource "configmaps"`, azrbac.ReasonDenied)
	_, err = alice.CoreV1().Secrets("dev").List(ctx, metav1.ListOptions{})
	wantForbidden(t, err, `cannot list resource "secrets"`, azrbac.ReasonDenied)
	_, err = alice.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	wantForbidden(t, err, `cannot list resource "nodes" in API group "" at the cluster scope`, azrbac.ReasonDenied)

	// A group's Writer role applies to members: bob's certificate names
	// the group; carol's does not, but the directory knows she is in it.
	wantForbidden(t, createConfigMap(bob, "prod", "by-bob"), `cannot create resource "configmaps"`, azrbac.ReasonDenied)
	if _, err := env.Cloud.GrantRole(platformID, "Azure Kubernetes Service RBAC Writer", clusterID+"/namespaces/prod"); err != nil {
		t.Fatal(err)
	}
	groupTook := eventually(t, 10*time.Second, func() error { return createConfigMap(bob, "prod", "by-bob") })
	t.Logf("FIGURE group grant -> allowed: %v", groupTook.Round(time.Millisecond))
	if err := createConfigMap(carol, "prod", "by-carol"); err != nil {
		t.Errorf("carol (devs in the directory) creates a configmap: %v", err)
	}
	wantForbidden(t, createConfigMap(bob, "dev", "by-bob"), `in the namespace "dev"`, azrbac.ReasonDenied)

	// Revoking takes the access away again.
	if n := env.Cloud.RevokeRoles(aliceOID, "Azure Kubernetes Service RBAC Reader", clusterID+"/namespaces/dev"); n != 1 {
		t.Fatalf("revoked %d assignments, want 1", n)
	}
	revokeTook := eventually(t, 10*time.Second, func() error {
		if err := listPods(alice, "dev"); !apierrors.IsForbidden(err) {
			return errors.New("still allowed")
		}
		return nil
	})
	t.Logf("FIGURE revoke -> forbidden: %v (authorized TTL %v)", revokeTook.Round(time.Millisecond), authorizedTTL)
	wantForbidden(t, listPods(alice, "dev"), `in the namespace "dev"`, azrbac.ReasonDenied)

	// Kubernetes RBAC is asked first, so a RoleBinding still grants.
	if _, err := admin.RbacV1().Roles("dev").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("dev").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-pod-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "alice@contoso.com"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error { return listPods(alice, "dev") })

	// Someone Azure AD does not know is left to Kubernetes RBAC, which
	// forbids without Azure's words.
	err = listPods(mallory, "dev")
	if !apierrors.IsForbidden(err) || strings.Contains(err.Error(), azrbac.ReasonDenied) {
		t.Errorf("mallory lists pods: %v; want Forbidden without Azure's reason", err)
	}

	// Discovery works for a person with no role.
	if _, err := person("erin@contoso.com").Discovery().ServerVersion(); err != nil {
		t.Errorf("discovery for an unknown person: %v", err)
	}
	checkProbes(t, srv, caPEM)
}

// wantForbidden checks a Forbidden error and its message.
func wantForbidden(t *testing.T, err error, parts ...string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("error = %v, want Forbidden", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("Forbidden message %q lacks %q", err.Error(), p)
		}
	}
}

// eventually retries f every 50 ms until it succeeds and says how long
// that took.
func eventually(t *testing.T, limit time.Duration, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("not within %v: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clientCertConfig is a client whose certificate, signed by the control
// plane's CA, names the user cn and the groups.
func clientCertConfig(t *testing.T, cp *controlplane.ControlPlane, cn string, groups []string) *rest.Config {
	t.Helper()
	caCertPEM, err := os.ReadFile(cp.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	caKeyPEM, err := os.ReadFile(strings.TrimSuffix(cp.CAFile, ".crt") + ".key")
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode(caCertPEM)
	kb, _ := pem.Decode(caKeyPEM)
	if cb == nil || kb == nil {
		t.Fatal("control plane CA is not PEM")
	}
	caCert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: groups},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &rest.Config{Host: cp.URL, TLSClientConfig: rest.TLSClientConfig{CAFile: cp.CAFile,
		CertData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyData:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}}
}

// checkProbes reads the webhook's health, readiness and metrics.
func checkProbes(t *testing.T, srv *azrbac.Server, caPEM []byte) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(pool)}, Timeout: 5 * time.Second}
	base := "https://" + srv.Addr()
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := c.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %d", p, resp.StatusCode)
		}
	}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`podid_azrbac_reviews_total{verdict="Allow"}`, `podid_azrbac_reviews_total{verdict="Deny"}`, "podid_azrbac_review_duration_seconds_count"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
