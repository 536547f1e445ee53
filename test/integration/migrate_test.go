package integration

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	podidv1 "github.com/podid/podid/api/v1"
	climigrate "github.com/podid/podid/internal/cli/migrate"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/wi"
)

// seed004World holds the identity seed 004's AzureIdentity names.
const seed004World = `
tenants:
  - id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    name: contoso
    subscriptions:
      - id: 99a3af26-911d-4bc5-8fcc-8f9de81e46c5
        name: aks
        resourceGroups:
          - name: rg-westus2-shared
            location: westus2
            identities:
              - name: aks-aad-user-identity
                clientId: 248b3285-aa4c-436f-b0da-8ab35ba2d14a
`

// migrateCommand runs podid migrate against the test cluster and cloud.
func migrateCommand(t *testing.T, ctx context.Context, cloud *cloudtest.Env, args ...string) (string, error) {
	t.Helper()
	cmd := climigrate.NewCommand(ctx)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, "--kubeconfig", env.ControlPlane.Kubeconfig, "--cloud-url", cloud.URL, "--cloud-ca", cloud.Cloud.CAPath()))
	err := cmd.Execute()
	return out.String(), err
}

func TestMigrateSeed004ToWorkloadIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := world.Parse("world.yaml", []byte(seed004World))
	if err != nil {
		t.Fatal(err)
	}
	cloud := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: t.TempDir()})
	applyFile(ctx, t, "testdata/seed004.yaml", "default")
	const ns = "aad-pod-identity-poc"
	t.Cleanup(func() { env.DeleteNamespace(t, ns) })
	waitCanonical[*podidv1.AzureIdentityBinding](ctx, t, ns, "aad-user-identity-binding", &podidv1.AzureIdentityBinding{})
	issuer, err := kubeclient.Issuer(ctx, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	subject := "system:serviceaccount:" + ns + ":default"

	// A dry run prints the runbook and changes nothing.
	out, err := migrateCommand(t, ctx, cloud, "-n", ns)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{
		"az identity federated-credential create --name podid-aad-pod-identity-poc-default --identity-name aks-aad-user-identity --resource-group rg-westus2-shared --issuer " + issuer + " --subject " + subject,
		"kubectl annotate serviceaccount -n " + ns + " default azure.workload.identity/client-id=248b3285-aa4c-436f-b0da-8ab35ba2d14a",
		"kubectl patch deployment -n " + ns + " az-keyvault-reader-test",
		"kubectl delete azureidentitybinding -n " + ns + " aad-user-identity-binding",
		"dry run: nothing changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := len(cloud.Cloud.Snapshot().Identities[0].Federated); n != 0 {
		t.Fatalf("a dry run created %d federated credentials", n)
	}

	// --apply twice: the second run finds everything in place and changes nothing more.
	for run := 1; run <= 2; run++ {
		if out, err := migrateCommand(t, ctx, cloud, "-n", ns, "--apply"); err != nil {
			t.Fatalf("apply %d: %v\n%s", run, err, out)
		}
	}
	fics := cloud.Cloud.Snapshot().Identities[0].Federated
	if len(fics) != 1 || fics[0].Issuer != issuer || fics[0].Subject != subject || fics[0].Audiences[0] != wi.Audience {
		t.Fatalf("federated credentials after apply: %+v, want one trusting %s for %s", fics, issuer, subject)
	}
	var sa corev1.ServiceAccount
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "default"}, &sa); err != nil {
		t.Fatal(err)
	}
	if got := sa.Annotations[wi.ClientIDAnnotation]; got != "248b3285-aa4c-436f-b0da-8ab35ba2d14a" {
		t.Fatalf("service account client-id annotation %q", got)
	}
	var d appsv1.Deployment
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "az-keyvault-reader-test"}, &d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Labels[wi.UseLabel] != "true" || d.Spec.Template.Labels[podidv1.SelectorLabel] != "bind-user-identity-keyvault" {
		t.Fatalf("pod template labels %v: want %s=true beside the kept aadpodidbinding label", d.Spec.Template.Labels, wi.UseLabel)
	}
	// Pod identity's objects stay until the user deletes them.
	var b podidv1.AzureIdentityBinding
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "aad-user-identity-binding"}, &b); err != nil {
		t.Fatalf("the binding is gone after migrate: %v", err)
	}

	// The account already names the identity: a new plan leaves it alone.
	out, err = migrateCommand(t, ctx, cloud, "-n", ns)
	if err != nil || strings.Contains(out, "kubectl annotate serviceaccount") {
		t.Fatalf("after apply the plan still annotates the account (err %v):\n%s", err, out)
	}
}
