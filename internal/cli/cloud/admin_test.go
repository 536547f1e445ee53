package cloud

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

const adminWorld = `
tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    name: contoso
    subscriptions:
      - id: 7e242177-ef0b-431f-8c76-e40907843aa7
        name: aks
        resourceGroups:
          - name: MC_rg
            location: westus2
            identities:
              - name: app-identity
                principalId: bfcf34d4-cde4-48dd-b7d7-6c3db4ff884c
            vaults:
              - name: kv-policy
                mode: accessPolicy
                secrets:
                  - name: s
                    value: v
    applications:
      - name: podid-mic
        objectId: b9276f33-e80c-4f09-9cdf-24c28c0feea4
`

// cloudCommand runs `cloud args...` against e and returns stdout.
func cloudCommand(t *testing.T, e *cloudtest.Env, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, "--cloud-url", e.URL, "--cloud-ca", e.Cloud.CAPath()))
	err := cmd.Execute()
	return out.String(), err
}

func TestRoleAndVaultPolicyChangeTheRunningCloud(t *testing.T) {
	w, err := world.Parse("world.yaml", []byte(adminWorld))
	if err != nil {
		t.Fatal(err)
	}
	e := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: t.TempDir()})
	mio, _ := authz.LookupRole(authz.Builtins(), "Managed Identity Operator")
	grants := func() int {
		n := 0
		for _, a := range e.Cloud.Snapshot().RoleAssignments {
			if a.PrincipalID == "b9276f33-e80c-4f09-9cdf-24c28c0feea4" && strings.EqualFold(a.RoleDefinitionID, mio.ID) && strings.HasSuffix(a.Scope, "/userAssignedIdentities/app-identity") {
				n++
			}
		}
		return n
	}
	policies := func() int { return len(e.Cloud.Snapshot().Vaults[0].AccessPolicies) }

	role := []string{"--principal", "podid-mic", "--role", "Managed Identity Operator", "--scope", "identity/app-identity"}
	if out, err := cloudCommand(t, e, append([]string{"role", "grant"}, role...)...); err != nil || grants() != 1 || !strings.Contains(out, "granted") {
		t.Fatalf("grant: err %v, %d assignments, out %q", err, grants(), out)
	}
	if out, err := cloudCommand(t, e, append([]string{"role", "revoke"}, role...)...); err != nil || grants() != 0 || !strings.Contains(out, "revoked 1 ") {
		t.Fatalf("revoke: err %v, %d assignments, out %q", err, grants(), out)
	}
	policy := []string{"--vault", "kv-policy", "--principal", "app-identity"}
	if out, err := cloudCommand(t, e, append([]string{"vault-policy", "set", "--secrets", "get,list"}, policy...)...); err != nil || policies() != 1 {
		t.Fatalf("set policy: err %v, %d policies, out %q", err, policies(), out)
	}
	if out, err := cloudCommand(t, e, append([]string{"vault-policy", "delete"}, policy...)...); err != nil || policies() != 0 {
		t.Fatalf("delete policy: err %v, %d policies, out %q", err, policies(), out)
	}

	for name, c := range map[string]struct {
		args []string
		want string // in the error
	}{
		"an unknown principal is named": {[]string{"role", "grant", "--principal", "nobody", "--role", "Reader", "--scope", "identity/app-identity"}, `"nobody"`},
		"an unknown role is named":      {[]string{"role", "grant", "--principal", "podid-mic", "--role", "Chief", "--scope", "identity/app-identity"}, "Chief"},
		"a bad permission is named":     {[]string{"vault-policy", "set", "--vault", "kv-policy", "--principal", "app-identity", "--secrets", "peek"}, `"peek"`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cloudCommand(t, e, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one naming %s", err, c.want)
			}
		})
	}
}
