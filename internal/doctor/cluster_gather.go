package doctor

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// ReadRules are everything the doctor reads, as the rules of the
// ClusterRole a chart grants it (and whoever runs `podid doctor`). It
// never writes. Secrets are read one by one, by the name an identity
// gives, and only their keys are kept: get, never list.
var ReadRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"nodes", "pods", "events", "serviceaccounts", "services"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"aadpodidentity.k8s.io"}, Resources: []string{"azureidentities", "azureidentitybindings", "azureassignedidentities", "azurepodidentityexceptions"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "daemonsets"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterrolebindings", "rolebindings"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}},
}

// ReadRoleName names the ClusterRole of ReadRules.
const ReadRoleName = "podid-doctor"

// GrantReadCommand is the command that creates the doctor's ClusterRole
// from ReadRules (the rules that list; Secrets, read one by one, are the
// chart's) and binds it to the user running it.
func GrantReadCommand() string {
	var resources []string
	for _, r := range ReadRules {
		if !hasVerb(r.Verbs, "list") {
			continue
		}
		for _, res := range r.Resources {
			if g := r.APIGroups[0]; g != "" {
				res += "." + g
			}
			resources = append(resources, res)
		}
	}
	sort.Strings(resources)
	return fmt.Sprintf("kubectl create clusterrole %s --verb=get,list --resource=%s && kubectl create clusterrolebinding %[1]s --clusterrole=%[1]s --user=\"$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')\"",
		ReadRoleName, strings.Join(resources, ","))
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

// checkGather reports each thing Gather could not read: the checks that
// needed it skip, so the report says less than it could.
func checkGather(f *Facts) []Finding {
	if len(f.Problems) == 0 {
		return []Finding{{Status: Pass, Message: "Everything the doctor reads could be read."}}
	}
	out := make([]Finding, 0, len(f.Problems))
	for _, p := range f.Problems {
		out = append(out, Finding{
			Status:   Warn,
			Message:  "The doctor could not read part of the cluster, so the checks that need it skip or say less.",
			Evidence: []string{p},
			Fix:      problemFix(p),
		})
	}
	return out
}

// problemFix is the fix for one gathering problem, told apart by the API
// server's words: a refusal wants the doctor's ClusterRole, a kind the
// server does not know wants the CRDs.
func problemFix(p string) string {
	switch l := strings.ToLower(p); {
	case strings.Contains(l, "forbidden"), strings.Contains(l, "unauthorized"):
		return GrantReadCommand()
	case strings.Contains(l, "no matches for kind"), strings.Contains(l, "could not find the requested resource"):
		return crdFix
	}
	return "Check that the API server answers (kubectl get --raw /readyz) and run the doctor again."
}

// couldNotList reports whether Gather failed to list what (its word in
// the problem, e.g. "Deployments"): checks that needed it skip rather
// than report an absence they did not see.
func couldNotList(f *Facts, what string) bool {
	prefix := "could not list " + what + ":"
	for _, p := range f.Problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
