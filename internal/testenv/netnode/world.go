package netnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/testenv"
)

// Names every test world shares.
const (
	NodeGroup    = "MC_podid"
	ScaleSetName = "nodepool"
	// FedIdentity trusts the agent's service-account tokens.
	FedIdentity = "fed-id"
	MICApp      = "mic"
	MICSecret   = "mic-secret-value"

	AgentNamespace      = "podid-system"
	AgentServiceAccount = "podid-nmi"
)

// AgentSubject is the subject of the agent's service-account tokens.
func AgentSubject() string {
	return "system:serviceaccount:" + AgentNamespace + ":" + AgentServiceAccount
}

// App is an application with one client secret.
type App struct{ Name, Secret string }

// World describes a test world: one tenant and subscription, resource
// group NodeGroup with FedIdentity (federated with the agent's subject),
// scale set ScaleSetName, and application MICApp, which is Virtual Machine
// Contributor on the resource group. The other fields add to that.
type World struct {
	// File names the world in parse errors.
	File           string
	TenantID       string
	SubscriptionID string
	// Instances is the scale set's capacity.
	Instances int
	// Identities are more user-assigned identities, with no credentials.
	Identities []string
	// ScaleSetIdentities are on the scale set from the start.
	ScaleSetIdentities []string
	// Apps are more applications.
	Apps []App
	// Vaults are key vaults in NodeGroup, each a YAML flow mapping such
	// as {name: kv, mode: accessPolicy}.
	Vaults []string
	// RoleAssignments are more role assignments, each a YAML flow mapping
	// such as {principal: mic, role: Reader, scope: identity/x}.
	RoleAssignments []string
}

// ScaleSetID is the scale set's resource ID; nodes' providerIDs point at
// its instances.
func (w World) ScaleSetID() string {
	return "/subscriptions/" + w.SubscriptionID + "/resourceGroups/" + NodeGroup +
		"/providers/Microsoft.Compute/virtualMachineScaleSets/" + ScaleSetName
}

// YAML is the world, as internal/cloud/world reads it, with FedIdentity
// trusting tokens from issuer for the agent's subject.
func (w World) YAML(issuer string) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("tenants:")
	p("  - id: %s", w.TenantID)
	p("    name: podid")
	p("    subscriptions:")
	p("      - id: %s", w.SubscriptionID)
	p("        name: aks")
	p("        resourceGroups:")
	p("          - name: %s", NodeGroup)
	p("            identities:")
	p("              - name: %s", FedIdentity)
	p("                federatedCredentials:")
	p("                  - name: cluster")
	p("                    issuer: %s", issuer)
	p("                    subject: %s", AgentSubject())
	p("                    audiences: [api://AzureADTokenExchange]")
	for _, id := range w.Identities {
		p("              - name: %s", id)
	}
	p("            scaleSets:")
	p("              - name: %s", ScaleSetName)
	p("                capacity: %d", w.Instances)
	if len(w.ScaleSetIdentities) > 0 {
		p("                identities: [%s]", strings.Join(w.ScaleSetIdentities, ", "))
	}
	if len(w.Vaults) > 0 {
		p("            vaults:")
		for _, v := range w.Vaults {
			p("              - %s", v)
		}
	}
	p("    applications:")
	for _, a := range append([]App{{MICApp, MICSecret}}, w.Apps...) {
		p("      - name: %s", a.Name)
		p("        secrets: [{value: %s}]", a.Secret)
	}
	p("    roleAssignments:")
	p("      - {principal: %s, role: Virtual Machine Contributor, scope: resourceGroup/%s}", MICApp, NodeGroup)
	for _, r := range w.RoleAssignments {
		p("      - %s", r)
	}
	return b.String()
}

// StartCloud seeds the cloud with the world, trusting the apiserver's CA
// so it can read the cluster's issuer keys.
func StartCloud(ctx context.Context, w World, issuer, apiserverCAFile string) (*cloud.Cloud, error) {
	parsed, err := world.Parse(w.File, []byte(w.YAML(issuer)))
	if err != nil {
		return nil, fmt.Errorf("parse test world: %w", err)
	}
	st, err := parsed.State()
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

// InstanceIMDS returns the IMDS URL of scale-set instance i.
func InstanceIMDS(c *cloud.Cloud, i int) (string, error) {
	name := fmt.Sprintf("%s_%d", ScaleSetName, i)
	for _, in := range c.Instances() {
		if strings.EqualFold(in.Name, name) {
			return in.IMDSURL, nil
		}
	}
	return "", fmt.Errorf("no IMDS listener for instance %s", name)
}

// CloudCAFile writes the cloud's CA bundle into dir once and returns its
// path.
func CloudCAFile(dir string, c *cloud.Cloud) (string, error) {
	p := filepath.Join(dir, "cloud-ca.pem")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if err := os.WriteFile(p, c.CAPEM(), 0o600); err != nil {
		return "", fmt.Errorf("write cloud CA: %w", err)
	}
	return p, nil
}

// CreateAgentServiceAccount makes the service account whose tokens the
// agent exchanges in federated mode, and its namespace.
func CreateAgentServiceAccount(ctx context.Context, env *testenv.Env) error {
	kube := env.Kube.CoreV1()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: AgentNamespace}}
	if _, err := kube.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", AgentNamespace, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: AgentNamespace, Name: AgentServiceAccount}}
	if _, err := kube.ServiceAccounts(AgentNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create ServiceAccount %s/%s: %w", AgentNamespace, AgentServiceAccount, err)
	}
	return nil
}

// MICOptions are mic's options for the cloud c, signing in to tenantID as
// MICApp with the cloud's CA in caFile; the secret is written to env.Dir.
func MICOptions(env *testenv.Env, c *cloud.Cloud, tenantID, caFile string) (*controller.Options, error) {
	app, ok := c.Application(MICApp)
	if !ok {
		return nil, fmt.Errorf("application %s missing from the test world", MICApp)
	}
	secretFile := filepath.Join(env.Dir, "mic-secret")
	if err := os.WriteFile(secretFile, []byte(MICSecret), 0o600); err != nil {
		return nil, fmt.Errorf("write mic secret: %w", err)
	}
	opts := controller.NewOptions()
	opts.Cloud.ARMEndpoint = c.ARMURL()
	opts.Cloud.AuthorityHost = c.AuthorityURL()
	opts.Cloud.TenantID = tenantID
	opts.Cloud.ClientID = app.AppID
	opts.Cloud.ClientSecretFile = secretFile
	opts.Cloud.CAFile = caFile
	return opts, nil
}

// StartMIC runs mic's controllers in-process with MICOptions and a
// manager that caches every object (unlike testenv's RunMIC). The channel
// gets the manager's error once ctx ends.
func StartMIC(ctx context.Context, env *testenv.Env, c *cloud.Cloud, tenantID, caFile string) (<-chan error, error) {
	opts, err := MICOptions(env, c, tenantID, caFile)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	opts.LeaderElect = false
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
