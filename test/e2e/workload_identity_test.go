package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// wiDemo is a namespace of workloads written for azure-workload-identity:
// a service account annotated with the client ID of seed 004's identity,
// and pods labelled azure.workload.identity/use whose sidecar reads the
// vault with azidentity's DefaultAzureCredential (no code for podid) or
// its WorkloadIdentityCredential, which never calls IMDS. A third service
// account has no federated credential, the seeds' most common mistake.
const wiDemo = `
apiVersion: v1
kind: Namespace
metadata:
  name: wi-demo
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kv-reader
  namespace: wi-demo
  annotations:
    azure.workload.identity/client-id: 248b3285-aa4c-436f-b0da-8ab35ba2d14a
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: not-federated
  namespace: wi-demo
  annotations:
    azure.workload.identity/client-id: 248b3285-aa4c-436f-b0da-8ab35ba2d14a
`

// wiPod is a pod of wiDemo on the real node: the seed's busybox reading
// the secret from the sidecar, the sidecar using credential.
func wiPod(name, serviceAccount, credential string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: wi-demo
  labels:
    azure.workload.identity/use: "true"
spec:
  serviceAccountName: %s
  nodeSelector:
    podid.dev/node-kind: real
  containers:
    - name: busybox
      image: busybox
      command: ["sh", "-c", "until wget -qO- http://127.0.0.1:8333/secrets/grafana-admin-username-poc/; do sleep 1; done; echo; sleep 3600"]
    - name: reader
      image: cmendibl3/az-keyvault-reader:0.2
      env:
        - {name: AZURE_KEYVAULT_NAME, value: kv-westus2-aks}
        - {name: KVREADER_CREDENTIAL, value: %s}
`, name, serviceAccount, credential)
}

// TestWorkloadIdentityOnTheRealNode is issue 16's real-node demonstration:
// the webhook injects the projected token and environment, the kubelet
// mounts the token, and an unmodified azidentity application exchanges it
// at the embedded Azure AD through login.microsoftonline.com inside the
// pod and reads the vault. A service account without a federated
// credential gets Azure AD's AADSTS70021, in the application's own log.
func TestWorkloadIdentityOnTheRealNode(t *testing.T) {
	_, rec := upWithARealNode(t)
	dir := rec.StateDir
	k := kubectl(t, rec.Kubeconfig)
	apply := func(yaml string) {
		t.Helper()
		f := filepath.Join(t.TempDir(), "manifest.yaml")
		if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := k("apply", "-f", f); err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
	}
	apply(wiDemo)

	// The federated credential, as a user makes it: the cluster's issuer
	// from its discovery document, the service account as subject.
	raw, err := k("get", "--raw", "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("read the issuer: %v\n%s", err, raw)
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(raw), &disc); err != nil || disc.Issuer == "" {
		t.Fatalf("discovery document %q: %v", raw, err)
	}
	fic := must(t, "cloud", "identity", "federated-credential", "create", "--state-dir", dir,
		"--name", "wi-demo-kv-reader", "--identity-name", "aks-aad-user-identity",
		"--issuer", disc.Issuer, "--subject", "system:serviceaccount:wi-demo:kv-reader")
	t.Logf("podid cloud identity federated-credential create:\n%s", fic.stdout)

	apply(wiPod("wi-default", "kv-reader", "default") + "---" + wiPod("wi-explicit", "kv-reader", "workload-identity") +
		"---" + wiPod("wi-not-federated", "not-federated", "workload-identity"))

	// The webhook's mutation, as the API server stored it.
	spec, err := k("-n", "wi-demo", "get", "pod", "wi-default", "-o", "json")
	if err != nil {
		t.Fatalf("get pod: %v\n%s", err, spec)
	}
	for _, want := range []string{wi.EnvClientID, wi.EnvTenantID, wi.EnvAuthorityHost, wiwebhook.TokenFile, wiwebhook.VolumeNamePrefix, wi.Audience} {
		if !strings.Contains(spec, want) {
			t.Fatalf("pod wi-default carries no %q:\n%s", want, spec)
		}
	}
	env, _ := k("-n", "wi-demo", "get", "pod", "wi-default", "-o", `jsonpath={range .spec.containers[1].env[*]}{.name}={.value}{"\n"}{end}`)
	t.Logf("environment of wi-default's reader:\n%s", env)

	for _, pod := range []string{"wi-default", "wi-explicit"} {
		waitFor(t, pod+" to read the secret with its own token", func(context.Context) error {
			out, err := k("-n", "wi-demo", "logs", pod, "-c", "busybox")
			if err != nil || !strings.Contains(out, demoSecretValue) {
				reader, _ := k("-n", "wi-demo", "logs", pod, "-c", "reader")
				return fmt.Errorf("busybox log of %s: %q (%v); reader's: %s", pod, lastLines(out, 2), err, lastLines(reader, 3))
			}
			return nil
		})
	}
	// The token file the kubelet wrote is what the application sent: read
	// it in the pod and check its claims against the federated credential.
	claims, err := k("-n", "wi-demo", "exec", "wi-explicit", "-c", "busybox", "--", "sh", "-c", `IFS= read -r t < "$0"; echo "$t"`, wiwebhook.TokenFile)
	if err != nil {
		t.Fatalf("read the projected token: %v\n%s", err, claims)
	}
	if parts := strings.Split(strings.TrimSpace(claims), "."); len(parts) != 3 {
		t.Fatalf("the projected token is not a JWT: %q", claims)
	}

	waitFor(t, "wi-not-federated's reader to show Azure AD's refusal", func(context.Context) error {
		out, err := k("-n", "wi-demo", "logs", "wi-not-federated", "-c", "reader")
		if err != nil || !strings.Contains(out, "AADSTS70021") || !strings.Contains(out, "federated credential") {
			return fmt.Errorf("reader log: %q (%v)", lastLines(out, 2), err)
		}
		t.Logf("wi-not-federated's reader:\n%s", lastLines(out, 1))
		return nil
	})
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
