package doctor

import "testing"

func TestBindingIdentity(t *testing.T) {
	runCases(t, "binding-identity", map[string]checkCase{
		"bindings naming existing identities pass": {
			facts: facts(msi("ns", "id"), binding("ns", "a", "id", "web"), binding("ns", "b", "id", "api")),
			want:  []want{{status: Pass, message: "2 bindings each name an existing AzureIdentity"}},
		},
		"a misspelt identity is patched to the close one": {
			facts: facts(msi("ns", "payments-id"), binding("ns", "b", "payment-id", "web")),
			want: []want{{status: Fail, object: "AzureIdentityBinding ns/b", message: `it probably means "payments-id"`,
				fix: `kubectl -n ns patch azureidentitybinding b --type merge -p '{"spec":{"azureIdentity":"payments-id"}}'`}},
		},
		"an identity that exists only in another namespace is edited in the binding": {
			facts: facts(msi("other", "id"), binding("ns", "b", "id", "web")),
			want: []want{{status: Fail, object: "AzureIdentityBinding ns/b", message: `AzureIdentity "id", which does not exist in namespace ns`,
				fix: "kubectl -n ns edit azureidentitybinding b"}},
		},
		"a binding outside the scope is not reported": {
			facts: scoped(Scope{Namespace: "other"}, facts(binding("ns", "b", "missing", "web"))),
		},
	})
}
