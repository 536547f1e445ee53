package cloud

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

// ficArgs are the az-style arguments naming the credential n of app-identity.
func ficArgs(verb string, n int, more ...string) []string {
	args := []string{"identity", "federated-credential", verb, "--identity-name", "app-identity", "-g", "MC_rg"}
	if verb != "list" {
		args = append(args, "--name", fmt.Sprintf("fic-%02d", n))
	}
	if verb == "create" || verb == "update" {
		args = append(args, "--issuer", "https://issuer.example/cluster", "--subject", fmt.Sprintf("system:serviceaccount:default:sa-%d", n))
	}
	return append(args, more...)
}

func TestFederatedCredentialCommandsAsAzIdentityDoes(t *testing.T) {
	w, err := world.Parse("world.yaml", []byte(adminWorld))
	if err != nil {
		t.Fatal(err)
	}
	e := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: t.TempDir()})

	out, err := cloudCommand(t, e, ficArgs("create", 0)...)
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	var created struct {
		Name       string `json:"name"`
		Type       string `json:"type"`
		Properties struct {
			Issuer    string   `json:"issuer"`
			Subject   string   `json:"subject"`
			Audiences []string `json:"audiences"`
		} `json:"properties"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create printed no ARM resource: %v\n%s", err, out)
	}
	if created.Name != "fic-00" || created.Properties.Subject != "system:serviceaccount:default:sa-0" ||
		len(created.Properties.Audiences) != 1 || created.Properties.Audiences[0] != DefaultFederatedAudience {
		t.Fatalf("create: got %+v, want fic-00 for sa-0 with the default audience", created)
	}

	// The cloud enforces Azure's rules with Azure's words.
	refusals := map[string]struct {
		args []string
		want string
	}{
		"a name Azure refuses": {
			args: []string{"identity", "federated-credential", "create", "--identity-name", "app-identity", "--name", "-x", "--issuer", "https://i.example", "--subject", "s"},
			want: "The federated identity credential name '-x' is invalid",
		},
		"two audiences": {
			args: ficArgs("create", 1, "--audiences", "a,b"),
			want: "Federated identity credentials must have exactly one audience.",
		},
		"the same issuer and subject twice": {
			args: []string{"identity", "federated-credential", "create", "--identity-name", "app-identity", "--name", "again", "--issuer", "https://issuer.example/cluster", "--subject", "system:serviceaccount:default:sa-0"},
			want: "Issuer and subject combination already exists for this Managed Identity.",
		},
		"an issuer that is not https": {
			args: ficArgs("create", 1, "--issuer", "http://issuer.example"),
			want: "It must be an https URL",
		},
		"an identity that does not exist": {
			args: []string{"identity", "federated-credential", "list", "--identity-name", "nobody"},
			want: `no user-assigned identity "nobody"`,
		},
		"update of a credential that does not exist": {
			args: ficArgs("update", 7),
			want: `has no federated credential "fic-07"`,
		},
		"missing flags": {
			args: []string{"identity", "federated-credential", "create", "--identity-name", "app-identity"},
			want: "--name, --issuer, --subject required",
		},
	}
	for name, c := range refusals {
		t.Run(name, func(t *testing.T) {
			out, err := cloudCommand(t, e, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got err %v (out %q), want one containing %q", err, out, c.want)
			}
		})
	}

	// Azure allows 20 credentials per identity; the 21st is refused.
	for n := 1; n < 20; n++ {
		if out, err := cloudCommand(t, e, ficArgs("create", n)...); err != nil {
			t.Fatalf("create %d: %v\n%s", n, err, out)
		}
	}
	if _, err := cloudCommand(t, e, ficArgs("create", 20)...); err == nil || !strings.Contains(err.Error(), "Too many Federated Identity Credentials are configured for this Managed Identity. The limit is 20.") {
		t.Fatalf("21st credential: got %v, want Azure's limit error", err)
	}
	// Replacing an existing one is not a new credential, so it is allowed.
	if out, err := cloudCommand(t, e, ficArgs("update", 3, "--subject", "system:serviceaccount:other:sa")...); err != nil || !strings.Contains(out, "system:serviceaccount:other:sa") {
		t.Fatalf("update at the limit: %v\n%s", err, out)
	}
	out, err = cloudCommand(t, e, ficArgs("list", 0)...)
	var list []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 20 {
		t.Fatalf("list: err %v, %d credentials, out %q", err, len(list), out)
	}
	if out, err := cloudCommand(t, e, ficArgs("show", 3)...); err != nil || !strings.Contains(out, `"system:serviceaccount:other:sa"`) {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if out, err := cloudCommand(t, e, ficArgs("delete", 3)...); err != nil || !strings.Contains(out, `deleted federated credential "fic-03"`) {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if out, err := cloudCommand(t, e, ficArgs("delete", 3)...); err != nil || !strings.Contains(out, "nothing deleted") {
		t.Fatalf("delete twice: %v\n%s", err, out)
	}
	if got := len(e.Cloud.Snapshot().Identities[0].Federated); got != 19 {
		t.Fatalf("the cloud holds %d credentials after one delete, want 19", got)
	}
}
