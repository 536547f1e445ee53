package clients

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/testenv"
)

// Names in the test world (a small copy of test/agent's).
const (
	tenantID       = "11111111-0000-0000-0000-000000000002"
	subscriptionID = "22222222-0000-0000-0000-000000000002"
	nodeGroup      = "MC_podid"
	fedIdentity    = "fed-id"
	micApp         = "mic"
	micSecret      = "mic-secret-value"

	agentNamespace      = "podid-system"
	agentServiceAccount = "podid-nmi"
)

// worldTemplate seeds the cloud. %[1]s is the cluster's service-account
// issuer, %[2]s the agent's subject.
const worldTemplate = `
tenants:
  - id: ` + tenantID + `
    name: podid
    subscriptions:
      - id: ` + subscriptionID + `
        name: aks
        resourceGroups:
          - name: ` + nodeGroup + `
            identities:
              - name: ` + fedIdentity + `
                federatedCredentials:
                  - name: cluster
                    issuer: %[1]s
                    subject: %[2]s
                    audiences: [api://AzureADTokenExchange]
            scaleSets:
              - name: nodepool
                capacity: 1
    applications:
      - name: ` + micApp + `
        secrets: [{value: ` + micSecret + `}]
    roleAssignments:
      - {principal: ` + micApp + `, role: Virtual Machine Contributor, scope: resourceGroup/` + nodeGroup + `}
`

// startCloud seeds the cloud with the test world, trusting the apiserver's
// CA so it can read the cluster's issuer keys.
func startCloud(ctx context.Context, issuer, apiserverCAFile string) (*cloud.Cloud, error) {
	subject := "system:serviceaccount:" + agentNamespace + ":" + agentServiceAccount
	w, err := world.Parse("clients-world.yaml", []byte(fmt.Sprintf(worldTemplate, issuer, subject)))
	if err != nil {
		return nil, fmt.Errorf("parse test world: %w", err)
	}
	st, err := w.State()
	if err != nil {
		return nil, fmt.Errorf("build test world: %w", err)
	}
	ca, err := os.ReadFile(apiserverCAFile)
	if err != nil {
		return nil, fmt.Errorf("read apiserver CA: %w", err)
	}
	c, err := cloud.Start(ctx, cloud.Options{Seed: st, TrustedCAs: [][]byte{ca}})
	if err != nil {
		return nil, fmt.Errorf("start cloud: %w", err)
	}
	return c, nil
}

// createAgentServiceAccount makes the service account whose tokens the
// agent exchanges in federated mode.
func createAgentServiceAccount(ctx context.Context, env *testenv.Env) error {
	kube := env.Kube.CoreV1()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: agentNamespace}}
	if _, err := kube.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", agentNamespace, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: agentNamespace, Name: agentServiceAccount}}
	if _, err := kube.ServiceAccounts(agentNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create ServiceAccount %s/%s: %w", agentNamespace, agentServiceAccount, err)
	}
	return nil
}

// startMIC runs mic's controllers in-process as the mic service principal.
func startMIC(ctx context.Context, env *testenv.Env, c *cloud.Cloud, caFile string) (<-chan error, error) {
	app, ok := c.Application(micApp)
	if !ok {
		return nil, fmt.Errorf("application %s missing from the test world", micApp)
	}
	secretFile := filepath.Join(env.Dir, "mic-secret")
	if err := os.WriteFile(secretFile, []byte(micSecret), 0o600); err != nil {
		return nil, fmt.Errorf("write mic secret: %w", err)
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	opts := controller.NewOptions()
	opts.LeaderElect = false
	opts.Cloud.ARMEndpoint = c.ARMURL()
	opts.Cloud.AuthorityHost = c.AuthorityURL()
	opts.Cloud.TenantID = tenantID
	opts.Cloud.ClientID = app.AppID
	opts.Cloud.ClientSecretFile = secretFile
	opts.Cloud.CAFile = caFile
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mic options: %w", err)
	}
	if err := controller.Register(ctx, mgr, opts); err != nil {
		return nil, fmt.Errorf("register mic controllers: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return done, nil
}
