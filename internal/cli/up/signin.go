package up

import (
	"context"
	"fmt"
	"os"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/azrbac"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/signin"
)

// startSignIn writes kube-apiserver's authentication configuration, which
// trusts the running cloud's issuer and CA, starts the cloud's proxy for
// az CLI, and with Azure RBAC starts the webhook in-process, where it
// reads the cloud's role assignments live. The configuration and the
// webhook must exist before kube-apiserver starts: it reads them once.
func (r *runner) startSignIn(ctx context.Context) error {
	s := r.p.SignIn
	cfg, err := s.AuthenticationConfiguration(s.Issuer(r.rt.CloudURL), r.cloud.CAPEM())
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.AuthnConfigFile, cfg, 0o600); err != nil {
		return fmt.Errorf("write the authentication configuration: %w", err)
	}
	// az CLI's sign-in needs it; it stops with the cloud.
	proxy, err := r.cloud.StartDiscoveryProxy("127.0.0.1:0")
	if err != nil {
		return err
	}
	s.AzureCLIProxy = proxy.URL()
	r.log.Info("serving az CLI proxy", "url", s.AzureCLIProxy, "tunnels", cloud.AzureADHost)
	if s.AzureRBAC == nil {
		return nil
	}
	return r.startAzureRBAC(ctx, s)
}

// startAzureRBAC serves SubjectAccessReviews on a free loopback port and
// writes the kubeconfig kube-apiserver calls it with.
func (r *runner) startAzureRBAC(ctx context.Context, s *plan.SignIn) error {
	cert, caPEM, err := azrbac.SelfSignedCert([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		return err
	}
	r.azrbacLog, err = os.OpenFile(s.AzureRBAC.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the azure rbac webhook log: %w", err)
	}
	policy := azrbac.Policy{ClusterID: s.Cluster.ID, AllowDiscovery: true}
	srv, err := azrbac.NewServer("127.0.0.1:0", cert, policy, azrbac.CloudDirectory{Cloud: r.cloud}, r.p.Log.New(r.azrbacLog))
	if err != nil {
		return err
	}
	kc, err := azrbac.WebhookKubeconfig(srv.URL(), caPEM)
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.AzureRBAC.WebhookKubeconfig, kc, 0o600); err != nil {
		return fmt.Errorf("write the azure rbac webhook kubeconfig: %w", err)
	}
	// The webhook outlives the start's deadline: it stops with the run.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	r.azrbacStop = func() {
		cancel()
		if err := <-done; err != nil {
			r.log.Info("azure rbac webhook stopped with an error", "error", err)
		}
	}
	r.log.Info("serving azure rbac webhook", "address", srv.Addr(), "cluster", s.Cluster.ID)
	return nil
}

func (r *runner) stopSignIn() {
	if r.azrbacStop != nil {
		r.azrbacStop()
		r.azrbacStop = nil
	}
	if r.azrbacLog != nil {
		_ = r.azrbacLog.Close()
		r.azrbacLog = nil
	}
}

// trustControlPlane lets the cloud verify the apiserver's service-account
// tokens (its issuer is served under the apiserver's CA), tells Resource
// Manager the managed cluster's API server (az aks get-credentials) and
// adds the demo identity's federated credential for that issuer.
func (r *runner) trustControlPlane(context.Context) error {
	ca, err := os.ReadFile(r.cp.CAFile)
	if err != nil {
		return fmt.Errorf("read apiserver CA: %w", err)
	}
	if err := r.cloud.AddTrustedCA(ca); err != nil {
		return fmt.Errorf("trust the apiserver CA in the cloud: %w", err)
	}
	if err := r.reportClusterAccess(ca); err != nil {
		return err
	}
	if f := r.p.Federation; f != nil {
		fc := cloud.FederatedCredential{Name: plan.FederationName, Issuer: r.cp.Issuer, Subject: f.Subject, Audiences: []string{f.Audience}}
		if err := r.cloud.AddFederatedCredential(f.IdentityID, fc); err != nil {
			return fmt.Errorf("add federated credential to %s: %w", f.IdentityID, err)
		}
	}
	return nil
}

// bindAdmins binds the --aad-admin-group-object-ids groups to
// cluster-admin, as AKS does at cluster creation.
func (r *runner) bindAdmins(ctx context.Context) error {
	b := r.p.SignIn.AdminBinding()
	if b == nil {
		return nil
	}
	if _, err := r.kube.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ClusterRoleBinding %s: %w", b.Name, err)
	}
	return nil
}

// reportClusterAccess tells the cloud how to reach the world's managed
// cluster, so that Resource Manager's listClusterUserCredential answers
// with a kubeconfig for this API server: a kubelogin exec entry signing in
// with device code, as AKS writes it, aimed at the embedded cloud. The
// admin certificate goes along unless local accounts are disabled, in
// which case listClusterAdminCredential refuses as AKS does. Without a
// managed cluster in the world there is nothing to report.
func (r *runner) reportClusterAccess(caPEM []byte) error {
	s := r.p.SignIn
	if s == nil || s.Cluster.ID == "" {
		return nil
	}
	a := cloud.ClusterAccess{
		Cluster: signin.Cluster{Name: s.Cluster.Name, ResourceGroup: s.Cluster.ResourceGroup, Server: r.cp.URL, CAPEM: caPEM},
		User: signin.Exec{Command: "kubelogin", Login: signin.LoginDeviceCode, ServerID: s.ServerAppID, ClientID: s.ClientAppID,
			TenantID: s.TenantID, AuthorityHost: r.rt.CloudURL + "/", CAFile: r.rt.CloudCA, CacheDir: plan.TokenCacheDir(r.p.StateDir)},
	}
	if s.LocalAccounts {
		a.AdminCertPEM, a.AdminKeyPEM = r.cp.Config.CertData, r.cp.Config.KeyData
	}
	if err := r.cloud.SetClusterAccess(s.Cluster.ID, a); err != nil {
		return fmt.Errorf("tell the cloud the API server of %s: %w", s.Cluster.Name, err)
	}
	return nil
}
