package world

import (
	"strings"
	"testing"
)

func TestExampleWorldParses(t *testing.T) {
	w, err := Load("../../../examples/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Machines) != 1 || len(st.Machines[0].UserAssigned) != 1 || st.Machines[0].Capacity != 2 {
		t.Fatalf("machines = %+v", st.Machines)
	}
	if len(st.RoleAssignments) != 5 || len(st.Vaults) != 2 || len(st.Applications) != 2 {
		t.Fatalf("got %d assignments, %d vaults, %d apps", len(st.RoleAssignments), len(st.Vaults), len(st.Applications))
	}
	again, _ := w.State()
	if again.Identities[0].ClientID != st.Identities[0].ClientID {
		t.Fatal("derived IDs are not stable")
	}
}

func TestBadWorldNamesLineAndField(t *testing.T) {
	const head = "tenants:\n  - id: 2e319086-9a26-46a3-865f-615bed576786\n    subscriptions:\n      - id: 7e242177-ef0b-431f-8c76-e40907843aa7\n        resourceGroups:\n          - name: rg\n"
	cases := map[string]struct {
		yaml string
		want string
	}{
		"an unknown key is refused with the allowed keys": {
			yaml: head + "            scaleSet: []\n",
			want: "w.yaml:7: scaleSet: unknown field; allowed:",
		},
		"a zero-capacity scale set names its capacity field": {
			yaml: head + "            scaleSets:\n              - name: vmss\n                capacity: 0\n",
			want: "w.yaml:9: tenants[0].subscriptions[0].resourceGroups[0].scaleSets[0].capacity: must be between 1 and 1000",
		},
		"a scale set naming an unknown identity": {
			yaml: head + "            scaleSets:\n              - name: vmss\n                capacity: 1\n                identities: [nope]\n",
			want: "w.yaml:10: tenants[0].subscriptions[0].resourceGroups[0].scaleSets[0].identities[0]: no identity named \"nope\"",
		},
		"a tenant ID that is not a GUID": {
			yaml: "tenants:\n  - id: contoso\n",
			want: "w.yaml:2: tenants[0].id: \"contoso\" is not a GUID",
		},
		"a role that does not exist": {
			yaml: head + "            identities:\n              - name: a\n    roleAssignments:\n      - principal: a\n        role: Superuser\n        scope: resourceGroup/rg\n",
			want: "w.yaml:11: tenants[0].roleAssignments[0].role: \"Superuser\" is not a built-in role",
		},
		"a federated credential with two audiences": {
			yaml: head + "            identities:\n              - name: a\n                federatedCredentials:\n                  - name: fic1\n                    issuer: https://issuer.example\n                    subject: system:serviceaccount:ns:sa\n                    audiences: [a, b]\n",
			want: "w.yaml:10: tenants[0].subscriptions[0].resourceGroups[0].identities[0].federatedCredentials[0]: Federated identity credentials must have exactly one audience.",
		},
		"a vault mode that does not exist": {
			yaml: head + "            vaults:\n              - name: kv1\n                mode: open\n",
			want: "w.yaml:9: tenants[0].subscriptions[0].resourceGroups[0].vaults[0].mode: \"open\" is not one of rbac, accessPolicy",
		},
		"a wrongly typed value": {
			yaml: head + "            scaleSets:\n              - name: vmss\n                capacity: many\n",
			want: "w.yaml:8: line 9: cannot unmarshal",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("w.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
