package world

import "testing"

// FuzzParse reads any bytes as a world file and builds the state of what
// parses: neither may panic, and a refusal names the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"tenants:\n  - id: 2e319086-9a26-46a3-865f-615bed576786\n    name: contoso\n",
		"tenants:\n  - id: 2e319086-9a26-46a3-865f-615bed576786\n    subscriptions:\n      - id: 7e242177-ef0b-431f-8c76-e40907843aa7\n        resourceGroups:\n          - name: rg\n            identities: [{name: a}]\n            scaleSets: [{name: s, capacity: 2, identities: [a]}]\n",
		"tenants: [{id: x}]\n",
		"tenants:\n  - id: 2e319086-9a26-46a3-865f-615bed576786\n    roleAssignments: [{principal: nobody, role: Reader, scope: subscription/x}]\n",
		"{",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		w, err := Parse("fuzz.yaml", []byte(doc))
		if err != nil {
			if len(err.Error()) == 0 {
				t.Fatal("empty error")
			}
			return
		}
		_, _ = w.State()
	})
}
