package doctor

import (
	"testing"

	podidv1 "github.com/podid/podid/api/v1"
)

func TestSPSecret(t *testing.T) {
	withSecret := func(s SecretFact, ids ...any) *Facts {
		f := facts(ids...)
		f.Secrets["ns/s"] = s
		return f
	}
	secret := podidv1.ServicePrincipal
	cert := podidv1.ServicePrincipalCertificate
	runCases(t, "sp-secret", map[string]checkCase{
		"a Secret with one key of any name passes": {
			facts: withSecret(SecretFact{Exists: true, Keys: []string{"value"}}, sp("ns", "id", secret, "s")),
			want:  []want{{status: Pass, message: "1 service principal's Secret exists"}},
		},
		"a Secret with clientsecret among other keys passes": {
			facts: withSecret(SecretFact{Exists: true, Keys: []string{"clientsecret", "note"}}, sp("ns", "id", secret, "s")),
			want:  []want{{status: Pass, message: "1 service principal's Secret"}},
		},
		"a missing Secret fails with the command that creates it": {
			facts: withSecret(SecretFact{}, sp("ns", "id", secret, "s")),
			want: []want{{status: Fail, object: "AzureIdentity ns/id", message: "Secret ns/s does not exist",
				fix: "kubectl -n ns create secret generic s --from-literal=clientsecret=<client secret>"}},
		},
		"a Secret the doctor may not read is skipped": {
			facts: withSecret(SecretFact{Err: `secrets "s" is forbidden`}, sp("ns", "id", secret, "s")),
			want:  []want{{status: Skip, object: "AzureIdentity ns/id", message: "Could not read Secret ns/s"}},
		},
		"several keys none of them preferred are ambiguous": {
			facts: withSecret(SecretFact{Exists: true, Keys: []string{"a", "b"}}, sp("ns", "id", secret, "s")),
			want:  []want{{status: Fail, object: "AzureIdentity ns/id", message: "cannot be told apart", fix: "kubectl -n ns edit secret s"}},
		},
		"a certificate identity needs the certificate key": {
			facts: withSecret(SecretFact{Exists: true, Keys: []string{"password"}}, sp("ns", "id", cert, "s")),
			want:  []want{{status: Fail, object: "AzureIdentity ns/id", message: `has no "certificate" key`, fix: "kubectl -n ns edit secret s"}},
		},
		"managed identities have no Secret to examine": {
			facts: facts(msi("ns", "id")),
		},
	})
}
