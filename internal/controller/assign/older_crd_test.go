package assign

import (
	"strings"
	"testing"

	podidv1 "github.com/podid/podid/api/v1"
)

// An assignment stored without the token mode mic wrote means the CRD
// pruned it: an older aad-pod-identity's. The error names the CRD and the
// command that replaces it; a stored mode, or none wanted, is no error.
func TestPrunedByOlderCRD(t *testing.T) {
	stored := func(mode string) *podidv1.AzureAssignedIdentity {
		a := &podidv1.AzureAssignedIdentity{}
		a.Namespace, a.Name = "aad-pod-identity-poc", "prober-aad-pod-identity-poc-aad-user-identity"
		a.Spec.TokenMode = mode
		return a
	}
	if err := prunedByOlderCRD(stored(podidv1.TokenModeNode), podidv1.TokenModeNode); err != nil {
		t.Errorf("mode stored: %v", err)
	}
	if err := prunedByOlderCRD(stored(""), ""); err != nil {
		t.Errorf("no mode wanted: %v", err)
	}
	err := prunedByOlderCRD(stored(""), podidv1.TokenModeFederated)
	if err == nil {
		t.Fatal("a pruned token mode went unnoticed")
	}
	for _, want := range []string{"AzureAssignedIdentity aad-pod-identity-poc/prober-aad-pod-identity-poc-aad-user-identity",
		"azureassignedidentities.aadpodidentity.k8s.io is an older aad-pod-identity's", "kubectl apply -f config/crd"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
