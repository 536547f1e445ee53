package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/podid/podid/internal/wi"
)

// TestMigrateSeed004OnTheRealNode is issue 16's zero-change path, as a user
// walks it: seed 004's workload reads its secret on the real node through
// pod identity; podid migrate --apply gives its service account a
// federated credential and its pod template the workload-identity label;
// the webhook injects the projected token into the new pod; the binding is
// deleted; and the same, unmodified application (it calls 169.254.169.254)
// still reads the secret, now through its own token.
func TestMigrateSeed004OnTheRealNode(t *testing.T) {
	_, rec := upWithARealNode(t)
	dir := rec.StateDir
	k := kubectl(t, rec.Kubeconfig)
	const ns = "aad-pod-identity-poc"
	if out, err := k("apply", "-f", "../integration/testdata/seed004.yaml"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	// Until the migration, the Deployment's one pod; after it, the pods of
	// the new template. The old ReplicaSet's pod may outlive the rollout:
	// the seed's busybox exits once it has read the secret, so a new pod is
	// Ready only now and then, and the rollout may take minutes to finish.
	selector := "app=az-keyvault-reader-test"
	realPod := func(ctx context.Context) (string, error) {
		out, err := k("-n", ns, "get", "pods", "-l", selector, "--field-selector", "spec.nodeName="+realNode+",status.phase=Running", "-o", "name")
		if p := strings.Fields(out); err == nil && len(p) == 1 {
			return p[0], nil
		}
		return "", fmt.Errorf("want one running pod on the real node: %q (%v)", out, err)
	}
	readsSecret := func(what string) {
		t.Helper()
		var pod string
		waitFor(t, what, func(ctx context.Context) error {
			p, err := realPod(ctx)
			if err != nil {
				return err
			}
			pod = p
			out, err := k("-n", ns, "logs", pod, "-c", "busybox")
			if err != nil || !strings.Contains(out, demoSecretValue) {
				return fmt.Errorf("busybox log of %s: %q (%v)", pod, out, err)
			}
			return nil
		})
	}
	readsSecret("seed 004's pod to read its secret through pod identity")

	plan := must(t, "migrate", "--state-dir", dir, "-n", ns)
	t.Logf("podid migrate (dry run):\n%s", plan.stdout)
	if !strings.Contains(plan.stdout, "az identity federated-credential create") || !strings.Contains(plan.stdout, "dry run: nothing changed") {
		t.Fatalf("the dry run prints no runbook:\n%s", plan.stdout)
	}
	applied := must(t, "migrate", "--state-dir", dir, "-n", ns, "--apply")
	t.Logf("podid migrate --apply:\n%s", applied.stdout)
	// The webhook gave the rolled pod its projected token and environment.
	injected := func(ctx context.Context) error {
		pod, err := realPod(ctx)
		if err != nil {
			return err
		}
		spec, _ := k("-n", ns, "get", pod, "-o", "jsonpath={.spec.volumes[*].projected.sources[*].serviceAccountToken.audience} {.spec.containers[0].env[*].name}")
		if !strings.Contains(spec, "api://AzureADTokenExchange") || !strings.Contains(spec, "AZURE_CLIENT_ID") {
			return fmt.Errorf("pod %s carries no projected token or environment: %q", pod, spec)
		}
		t.Logf("migrated pod %s: %s", pod, spec)
		return nil
	}
	selector += "," + wi.UseLabel + "=true"
	waitFor(t, "the rolled pod on the real node to carry the projected token", injected)

	// Pod identity goes; a new pod of the same, unchanged application reads
	// the secret through its own token.
	if out, err := k("-n", ns, "delete", "azureidentitybinding", "aad-user-identity-binding"); err != nil {
		t.Fatalf("delete the binding: %v\n%s", err, out)
	}
	if out, err := k("-n", ns, "delete", "pod", "-l", "app=az-keyvault-reader-test", "--grace-period=1"); err != nil {
		t.Fatalf("delete the pods: %v\n%s", err, out)
	}
	readsSecret("the migrated pod to read its secret with no binding left")
	waitFor(t, "the new pod to carry the projected token", injected)
}
