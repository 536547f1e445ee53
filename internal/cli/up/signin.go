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
)

// startSignIn writes kube-apiserver's authentication configuration, which
// trusts the running cloud's issuer and CA, and with Azure RBAC starts the
// webhook in-process, where it reads the cloud's role assignments live.
// Both must exist before kube-apiserver starts: it reads them once.
func (r *runner) startSignIn(ctx context.Context) error {
	s := r.p.SignIn
	cfg, err := s.AuthenticationConfiguration(s.Issuer(r.rt.CloudURL), r.cloud.CAPEM())
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.AuthnConfigFile, cfg, 0o600); err != nil {
		return fmt.Errorf("write the authentication configuration: %w", err)
	}
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
// tokens (its issuer is served under the apiserver's CA) and adds the demo
// identity's federated credential for that issuer.
func (r *runner) trustControlPlane(context.Context) error {
	ca, err := os.ReadFile(r.cp.CAFile)
	if err != nil {
		return fmt.Errorf("read apiserver CA: %w", err)
	}
	if err := r.cloud.AddTrustedCA(ca); err != nil {
		return fmt.Errorf("trust the apiserver CA in the cloud: %w", err)
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
