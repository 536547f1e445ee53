package wiwebhook

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/manifest.yaml from Manifest")

// TestManifestGolden pins the rendered configurations; refresh with
// go test ./internal/wiwebhook -run ManifestGolden -update.
func TestManifestGolden(t *testing.T) {
	got, err := Manifest(ManifestOptions{ServiceNamespace: "kube-system", ServiceName: "podid-wi-webhook"}).YAML()
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/manifest.yaml"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("manifest changed (-golden +rendered); run with -update if intended:\n%s", diff)
	}
}

// TestMutatingWebhookMatchesV16 checks the settings v1.6's
// deploy/azure-wi-webhook.yaml gives its MutatingWebhookConfiguration.
func TestMutatingWebhookMatchesV16(t *testing.T) {
	w := Manifest(ManifestOptions{ServiceNamespace: "ns", ServiceName: "svc"}).Mutating.Webhooks[0]
	checks := map[string]bool{
		"name mutation.azure-workload-identity.io":   w.Name == "mutation.azure-workload-identity.io",
		"failurePolicy Fail":                         *w.FailurePolicy == "Fail",
		"matchPolicy Equivalent":                     *w.MatchPolicy == "Equivalent",
		"reinvocationPolicy IfNeeded":                *w.ReinvocationPolicy == "IfNeeded",
		"sideEffects None":                           *w.SideEffects == "None",
		"timeoutSeconds 10 (the default v1.6 keeps)": *w.TimeoutSeconds == 10,
		"admissionReviewVersions v1, v1beta1":        cmp.Equal(w.AdmissionReviewVersions, []string{"v1", "v1beta1"}),
		"objectSelector on the label":                cmp.Equal(w.ObjectSelector.MatchLabels, map[string]string{"azure.workload.identity/use": "true"}),
		"path /mutate-v1-pod":                        *w.ClientConfig.Service.Path == "/mutate-v1-pod",
		"CREATE of v1 pods only":                     len(w.Rules) == 1 && fmt.Sprint(w.Rules[0].Operations) == "[CREATE]" && cmp.Equal(w.Rules[0].Resources, []string{"pods"}) && cmp.Equal(w.Rules[0].APIVersions, []string{"v1"}),
		"no namespaceSelector (every namespace)":     w.NamespaceSelector == nil,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("mutating webhook: want %s, got %+v", what, w)
		}
	}
	v := Manifest(ManifestOptions{URL: "https://127.0.0.1:9443"}).Validating.Webhooks[0]
	if *v.FailurePolicy != "Ignore" || *v.ClientConfig.URL != "https://127.0.0.1:9443/warn-v1-pod" {
		t.Errorf("warning webhook: want failurePolicy Ignore at /warn-v1-pod, got %+v", v)
	}
}
