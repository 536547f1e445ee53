package wiwebhook

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// goldenConfig is the webhook configuration of every golden case: v1.6's
// AZURE_TENANT_ID and the public cloud (AZURE_ENVIRONMENT unset).
var goldenConfig = Config{TenantID: "11111111-1111-1111-1111-111111111111", AuthorityHost: DefaultAuthorityHost}

// TestGoldenMatchesV16 admits each testdata/golden/<case>.in.yaml (a pod
// and its ServiceAccount, in namespace "apps"), applies the JSON patch the
// webhook answers to the pod as the API server sent it, and compares the
// result field by field with <case>.want.yaml.
//
// The .want.yaml files are written by hand from azure-workload-identity
// v1.6.0, not produced by this package:
//   - pkg/webhook/webhook.go: Handle (request namespace written into the pod,
//     "default" service account), getServiceAccountTokenExpiration (pod
//     annotation first, then the service account's, default 3600),
//     getTenantID (annotation present wins, even empty), getSkipContainers
//     (split on ";", trimmed), mutateContainers over init containers then
//     containers, addEnvironmentVariables (append in the order client ID,
//     tenant ID, token file, authority host; only names absent from the
//     container; never an empty value), addProjectedVolumeMount and
//     addProjectedVolume (replace by name, else append), buildVolumeName
//     (prefix + the first 30 hex digits of sha256(name), or of
//     "<generateName> (prefix)");
//   - pkg/webhook/consts.go: names, mount path /var/run/secrets/azure/wi,
//     token path token/azure-identity-token, audience
//     api://AzureADTokenExchange;
//   - pkg/webhook/webhook_test.go: TestHandle (no "remove" patch operation),
//     TestAddEnvironmentVariables, TestAddProjectedVolume;
//   - getAzureAuthorityHost with go-autorest's public cloud endpoint
//     https://login.microsoftonline.com/.
//
// The volume hashes were computed with `printf %s NAME | sha256sum`.
func TestGoldenMatchesV16(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			pod, sa := readCase(t, in)
			raw, err := json.Marshal(pod)
			if err != nil {
				t.Fatal(err)
			}
			resp := mutationResponse(raw, Input{Pod: pod, Namespace: "apps", ServiceAccount: sa, Config: goldenConfig})
			if !resp.Allowed {
				t.Fatalf("pod refused: %v", resp.Result)
			}
			for _, op := range resp.Patches {
				if op.Operation == "remove" {
					t.Errorf("patch removes %s; v1.6 never removes a field", op.Path)
				}
			}
			patch, err := json.Marshal(resp.Patches)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := jsonpatch.DecodePatch(patch)
			if err != nil {
				t.Fatalf("decode patch: %v", err)
			}
			patched, err := decoded.Apply(raw)
			if err != nil {
				t.Fatalf("apply patch: %v", err)
			}
			var got, want corev1.Pod
			if err := json.Unmarshal(patched, &got); err != nil {
				t.Fatal(err)
			}
			wantYAML, err := os.ReadFile(strings.TrimSuffix(in, ".in.yaml") + ".want.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.UnmarshalStrict(wantYAML, &want); err != nil {
				t.Fatalf("read want: %v", err)
			}
			if diff := cmp.Diff(&want, &got); diff != "" {
				t.Errorf("patched pod differs from v1.6's (-v1.6 +podid):\n%s", diff)
			}
		})
	}
}

// readCase reads a pod and a ServiceAccount from a two-document YAML file.
func readCase(t *testing.T, path string) (*corev1.Pod, *corev1.ServiceAccount) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(b, []byte("\n---\n"))
	if len(docs) != 2 {
		t.Fatalf("%s: want a pod and a service account, got %d documents", path, len(docs))
	}
	pod, sa := &corev1.Pod{}, &corev1.ServiceAccount{}
	if err := yaml.UnmarshalStrict(docs[0], pod); err != nil {
		t.Fatalf("%s: pod: %v", path, err)
	}
	if err := yaml.UnmarshalStrict(docs[1], sa); err != nil {
		t.Fatalf("%s: service account: %v", path, err)
	}
	return pod, sa
}
