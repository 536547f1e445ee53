package doctor

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	podidv1 "github.com/podid/podid/api/v1"
)

// The fix commands of the object checks. Each is one shell command with
// the real names filled in; values are shell-quoted where a user could
// have put anything in them (labels, selectors).

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// relabelPodCmd sets the pod's aadpodidbinding label to selector.
func relabelPodCmd(ns, pod, selector string) string {
	return fmt.Sprintf("kubectl label pod -n %s %s %s --overwrite", ns, pod, shellQuote(podidv1.SelectorLabel+"="+selector))
}

// createBindingCmd creates a binding of identity for pods labelled
// selector in namespace ns. kubectl has no generator for custom
// resources, so the object goes through kubectl apply on stdin.
func createBindingCmd(ns, identity, selector string) string {
	obj := map[string]any{
		"apiVersion": podidv1.GroupVersion.String(),
		"kind":       podidv1.KindAzureIdentityBinding,
		"metadata":   map[string]string{"name": bindingNameFor(selector), "namespace": ns},
		"spec":       map[string]string{"azureIdentity": identity, "selector": selector},
	}
	raw, _ := json.Marshal(obj) // maps of strings always marshal
	return fmt.Sprintf("echo %s | kubectl apply -f -", shellQuote(string(raw)))
}

// bindingNameFor names a new binding after its selector when the selector
// is a valid object name, as guides do.
func bindingNameFor(selector string) string {
	name := strings.ToLower(strings.TrimSpace(selector))
	if len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name + "-binding"
	}
	return "binding"
}

// copyIdentityCmd copies AzureIdentity `identity` and binding `binding`
// from namespace from into namespace to: the one command that lets a pod
// of namespace to use them, since a binding serves only its own namespace.
// The server-set fields that kubectl create refuses are dropped.
func copyIdentityCmd(from, identity, binding, to string) string {
	return fmt.Sprintf("kubectl get -n %s azureidentity/%s azureidentitybinding/%s -o yaml | sed -e 's/^    namespace: %s$/    namespace: %s/' -e '/^    resourceVersion:/d' -e '/^    uid:/d' | kubectl create -f -",
		from, identity, binding, from, to)
}

// editCmd opens the object in an editor.
func editCmd(resource, ns, name string) string {
	return fmt.Sprintf("kubectl -n %s edit %s %s", ns, resource, name)
}

// patchCmd merges patch (a JSON object) into the object.
func patchCmd(resource, ns, name string, patch map[string]any) string {
	raw, _ := json.Marshal(patch) // patches are built from strings and maps
	return fmt.Sprintf("kubectl -n %s patch %s %s --type merge -p %s", ns, resource, name, shellQuote(string(raw)))
}
