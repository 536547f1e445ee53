package doctor

import "testing"

func TestPodBinding(t *testing.T) {
	runCases(t, "pod-binding", map[string]checkCase{
		"a pod whose label matches a binding passes": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "web"), pod("ns", "p", "web"), pod("ns", "unlabelled", "")),
			want:  []want{{status: Pass, message: "1 labelled pod is matched"}},
		},
		"a label that differs only in case names the binding's selector": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "web"), pod("ns", "p", "Web")),
			want: []want{{status: Fail, object: "Pod ns/p", message: `it probably means "web"`,
				fix: "kubectl label pod -n ns p aadpodidbinding=web --overwrite"}},
		},
		"a selector with a trailing space, which no label can carry, is fixed in the binding": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "web "), pod("ns", "p", "web")),
			want: []want{{status: Fail, object: "Pod ns/p", message: `probably means "web "`,
				fix: `kubectl -n ns patch azureidentitybinding b --type merge -p '{"spec":{"selector":"web"}}'`}},
		},
		"a typo two edits away names the selector": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "frontend"), pod("ns", "p", "frontnd")),
			want: []want{{status: Fail, object: "Pod ns/p", message: `probably means "frontend"`,
				fix: "kubectl label pod -n ns p aadpodidbinding=frontend --overwrite"}},
		},
		"a label like nothing asks for a binding of the namespace's only identity": {
			facts: facts(msi("ns", "id"), pod("ns", "p", "api")),
			want: []want{{status: Fail, object: "Pod ns/p", message: "matches no AzureIdentityBinding, so it gets no identity",
				fix: `echo '{"apiVersion":"aadpodidentity.k8s.io/v1","kind":"AzureIdentityBinding","metadata":{"name":"api-binding","namespace":"ns"},"spec":{"azureIdentity":"id","selector":"api"}}' | kubectl apply -f -`}},
		},
		"a selector only another namespace has copies its identity and binding": {
			facts: facts(msi("other", "id"), binding("other", "b", "id", "web"), pod("ns", "p", "web")),
			want: []want{{status: Fail, object: "Pod ns/p", message: "matches only bindings of other namespaces (other/b)",
				fix: "kubectl get -n other azureidentity/id azureidentitybinding/b -o yaml | sed -e 's/^    namespace: other$/    namespace: ns/' -e '/^    resourceVersion:/d' -e '/^    uid:/d' | kubectl create -f -"}},
		},
		"a selector of another namespace whose identity exists here needs only a binding": {
			facts: facts(msi("other", "id"), msi("ns", "id"), binding("other", "b", "id", "web"), pod("ns", "p", "web")),
			want: []want{{status: Fail, object: "Pod ns/p", message: "matches only bindings of other namespaces",
				fix: `echo '{"apiVersion":"aadpodidentity.k8s.io/v1","kind":"AzureIdentityBinding","metadata":{"name":"web-binding","namespace":"ns"},"spec":{"azureIdentity":"id","selector":"web"}}' | kubectl apply -f -`}},
		},
		"a pod outside the scope is not reported": {
			facts: scoped(Scope{Namespace: "other"}, facts(pod("ns", "p", "web"))),
		},
	})
}

// scoped sets f's scope.
func scoped(s Scope, f *Facts) *Facts {
	f.Scope = s
	return f
}
