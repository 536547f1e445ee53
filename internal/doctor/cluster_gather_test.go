package doctor

import (
	"strings"
	"testing"
)

func TestCheckGather(t *testing.T) {
	cases := map[string]struct {
		problems []string
		want     []string
		fix      string
	}{
		"everything could be read passes": {
			want: []string{"pass"},
		},
		"a refused list warns with the doctor's ClusterRole": {
			problems: []string{`could not list Leases: leases.coordination.k8s.io is forbidden: User "dev" cannot list resource "leases"`},
			want:     []string{"warn"},
			fix:      "kubectl create clusterrole podid-doctor --verb=get,list --resource=",
		},
		"a kind the server does not know warns with the CRDs": {
			problems: []string{`could not list AzureIdentities: no matches for kind "AzureIdentityList" in version "aadpodidentity.k8s.io/v1"`},
			want:     []string{"warn"},
			fix:      crdFix,
		},
		"each problem is its own warning": {
			problems: []string{"could not list pods: timeout", "could not list events: timeout"},
			want:     []string{"warn", "warn"},
			fix:      "kubectl get --raw /readyz",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkGather(&Facts{Problems: tc.problems})
			assertClusterFindings(t, got, tc.want, tc.fix)
		})
	}
}

func TestGrantReadCommandNamesEveryListedResource(t *testing.T) {
	cmd := GrantReadCommand()
	for _, r := range ReadRules {
		for _, res := range r.Resources {
			listed := strings.Contains(cmd, res)
			if want := hasVerb(r.Verbs, "list"); listed != want {
				t.Errorf("resource %s in the command: %v, want %v (%s)", res, listed, want, cmd)
			}
		}
	}
	if strings.Contains(cmd, "secrets") {
		t.Errorf("the command grants list on Secrets: %s", cmd)
	}
}
