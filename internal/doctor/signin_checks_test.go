package doctor

import (
	"encoding/base64"
	"strings"
	"testing"
)

const (
	bob         = "bob@contoso.com"
	azureDenied = "User does not have access to the resource in Azure. Update role assignment to allow access."
)

// podidRun is the record of podid up --aad-admin-group-object-ids G
// --enable-azure-rbac --disable-local-accounts.
func podidRun() *SignInRun {
	return &SignInRun{StateDir: "/s", Kubeconfig: "/s/run/kubeconfig", ClusterName: "aks-poc", ResourceGroup: "rg", AzureRBAC: true, AdminGroups: []string{"g1"}}
}

func signedIn(user string, access ...AccessFact) *SignInFacts {
	return &SignInFacts{Kubeconfig: "/k", User: "clusterUser_rg_aks-poc", Exec: &ExecPlugin{Command: "kubelogin", Path: "/bin/kubelogin", Login: "devicecode"},
		Plugin: &PluginRun{}, Review: &SignInReview{User: user, Groups: []string{"system:authenticated"}}, Access: access}
}

// wantOne runs check over s and asserts its only finding.
func wantOne(t *testing.T, check func(*Facts) []Finding, s *SignInFacts, status Status, msg, fix string, evidence ...string) {
	t.Helper()
	got := check(&Facts{SignIn: s})
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(got), got)
	}
	f := got[0]
	if f.Status != status || !strings.Contains(f.Message, msg) || f.Fix != fix {
		t.Fatalf("got %s %q fix %q\nwant %s containing %q fix %q", f.Status, f.Message, f.Fix, status, msg, fix)
	}
	all := strings.Join(f.Evidence, "\n")
	for _, e := range evidence {
		if !strings.Contains(all, e) {
			t.Fatalf("evidence\n%s\nlacks %q", all, e)
		}
	}
}

func TestKubeconfigAuth(t *testing.T) {
	withRun := func(s *SignInFacts) *SignInFacts { s.Run = podidRun(); return s }
	cases := map[string]struct {
		facts    *SignInFacts
		status   Status
		msg, fix string
		evidence []string
	}{
		"the removed azure auth provider fails with kubectl's words and kubelogin's convert": {
			facts:  &SignInFacts{Kubeconfig: "/k", User: "u", AuthProvider: "azure"},
			status: Fail, msg: "removed in 1.26", fix: "kubelogin convert-kubeconfig -l azurecli --kubeconfig /k",
			evidence: []string{"error: The azure auth plugin has been removed.", "Please use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.",
				"See https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins for further details"},
		},
		"under podid up the azure auth provider is fixed by get-credentials": {
			facts:  withRun(&SignInFacts{Kubeconfig: "/k", User: "u", AuthProvider: "azure"}),
			status: Fail, msg: "podid get-credentials", fix: "podid get-credentials --state-dir /s -f /k",
		},
		"kubelogin missing from PATH fails with the install hint": {
			facts:  &SignInFacts{Kubeconfig: "/k", User: "u", Exec: &ExecPlugin{Command: "kubelogin", InstallHint: "kubelogin is not installed which is required to connect to AAD enabled cluster.\n"}},
			status: Fail, msg: "go install github.com/Azure/kubelogin@latest", fix: "az aks install-cli",
			evidence: []string{"Unable to connect to the server: getting credentials: exec: executable kubelogin not found",
				"It looks like you are trying to use a client-go credential plugin that is not installed.", "kubelogin is not installed which is required to connect to AAD enabled cluster."},
		},
		"a plugin on PATH passes": {
			facts:  &SignInFacts{Kubeconfig: "/k", User: "u", Exec: &ExecPlugin{Command: "kubelogin", Path: "/bin/kubelogin"}},
			status: Pass, msg: "exec credential plugin kubelogin (/bin/kubelogin)",
		},
		"an unreadable kubeconfig fails": {
			facts:  &SignInFacts{Kubeconfig: "/k", Err: "load kubeconfig /k: no such file"},
			status: Fail, msg: "cannot be used", fix: "az aks get-credentials --resource-group <resource group> --name <cluster> --file /k --overwrite-existing",
			evidence: []string{"no such file"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wantOne(t, checkKubeconfigAuth, tc.facts, tc.status, tc.msg, tc.fix, tc.evidence...)
		})
	}
	if got := checkKubeconfigAuth(&Facts{}); got != nil {
		t.Fatalf("findings without a kubeconfig: %+v", got)
	}
}

func TestSignInIdentity(t *testing.T) {
	clusterPods := AccessFact{Verb: "list", Resource: "pods", Reason: azureDenied}
	nsPods := AccessFact{Verb: "list", Resource: "pods", Namespace: "default", Reason: azureDenied}
	underRun := signedIn(bob, clusterPods, nsPods)
	underRun.Run = podidRun()
	underRun.Bindings = []BindingFact{{Object: "ClusterRoleBinding aks-cluster-admin-binding-aad", Role: "ClusterRole cluster-admin", Subjects: []string{"Group g1"}}}
	expired := signedIn("")
	expired.Review = nil
	expired.Exec.Login, expired.Exec.ClientID = "spn", "env-id"
	expired.Plugin = &PluginRun{ExitCode: 1, Err: "exit code 1", Stderr: []string{"Error: failed to get token: ... AADSTS7000222: The provided client secret keys for app 'app-123' are expired."}}
	waiting := signedIn("")
	waiting.Review = nil
	waiting.Plugin = &PluginRun{TimedOut: true, Prompted: true, Err: "no credential within 10s"}
	refused := signedIn("")
	refused.Review = &SignInReview{Unauthorized: true, Err: "Unauthorized"}
	rbacOnly := signedIn("carol", AccessFact{Verb: "list", Resource: "pods"})
	overage := signedIn("olivia@contoso.com", AccessFact{Verb: "list", Resource: "pods"})
	overage.Plugin = &PluginRun{GroupsOverage: true}
	overageAzure := signedIn("olivia@contoso.com", clusterPods)
	overageAzure.Plugin = &PluginRun{GroupsOverage: true}

	cases := map[string]struct {
		facts    *SignInFacts
		status   Status
		msg, fix string
		evidence []string
	}{
		"bob refused by Azure RBAC under podid up gets kubectl's text and podid's grant": {
			facts: underRun, status: Fail, msg: "user bob@contoso.com signs in but may not list pods",
			fix: `podid cloud role grant --state-dir /s --principal bob@contoso.com --role "Azure Kubernetes Service RBAC Reader" --scope managedCluster/aks-poc`,
			evidence: []string{
				`Error from server (Forbidden): pods is forbidden: User "bob@contoso.com" cannot list resource "pods" in API group "" at the cluster scope: ` + azureDenied,
				`Error from server (Forbidden): pods is forbidden: User "bob@contoso.com" cannot list resource "pods" in API group "" in the namespace "default": ` + azureDenied,
				"signed in as bob@contoso.com, groups system:authenticated",
				"ClusterRoleBinding aks-cluster-admin-binding-aad binds ClusterRole cluster-admin to Group g1",
			},
		},
		"bob refused by Azure RBAC on AKS gets az's role assignment": {
			facts: signedIn(bob, clusterPods), status: Fail, msg: "Azure RBAC",
			fix: `az role assignment create --role "Azure Kubernetes Service RBAC Reader" --assignee bob@contoso.com --scope "$(az aks show --resource-group rg --name aks-poc --query id -o tsv)"`,
		},
		"a user refused by Kubernetes RBAC alone gets a binding": {
			facts: rbacOnly, status: Fail, msg: "no Kubernetes RBAC binding grants it",
			fix:      "kubectl create clusterrolebinding carol-view --clusterrole=view --user=carol",
			evidence: []string{`User "carol" cannot list resource "pods" in API group "" at the cluster scope`, "no ClusterRoleBinding or RoleBinding grants cluster-admin"},
		},
		"a user in more than 200 groups is told the token carries none": {
			facts: overage, status: Fail, msg: "group overage: the user is in more than 200 groups), so the API server sees none of them",
			fix:      "kubectl create clusterrolebinding olivia-contoso.com-view --clusterrole=view --user=olivia@contoso.com",
			evidence: []string{"_claim_names.groups and no groups claim"},
		},
		"under Azure RBAC the overage message says a group's role applies": {
			facts: overageAzure, status: Fail, msg: "Azure RBAC reads group memberships from Azure AD, so a role assigned to one of the user's groups does apply",
			fix: `az role assignment create --role "Azure Kubernetes Service RBAC Reader" --assignee olivia@contoso.com --scope "$(az aks show --resource-group rg --name aks-poc --query id -o tsv)"`,
		},
		"a user who may list pods passes": {
			facts: signedIn("alice@contoso.com", AccessFact{Verb: "list", Resource: "pods", Allowed: true}), status: Pass, msg: "signs in as alice@contoso.com",
		},
		"an expired service principal secret names AADSTS7000222 and the reset": {
			facts: expired, status: Fail, msg: "its client secret has expired (AADSTS7000222)", fix: "az ad sp credential reset --id app-123",
			evidence: []string{"getting credentials: exec: executable kubelogin failed with exit code 1", "AADSTS7000222"},
		},
		"a plugin waiting for a device code is skipped, not waited for": {
			facts: waiting, status: Skip, msg: "could not sign in non-interactively", fix: "kubectl --kubeconfig /k auth whoami",
		},
		"a refused token gives kubectl's Unauthorized and the likely causes": {
			facts: refused, status: Fail, msg: "another audience (--server-id) or tenant (--tenant-id)",
			fix:      "az aks get-credentials --resource-group rg --name aks-poc --file /k --overwrite-existing",
			evidence: []string{"error: You must be logged in to the server (Unauthorized)"},
		},
		"the removed auth provider is left to kubeconfig-auth": {
			facts: &SignInFacts{Kubeconfig: "/k", User: "u", AuthProvider: "azure"}, status: Skip, msg: "see kubeconfig-auth",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wantOne(t, checkSignInIdentity, tc.facts, tc.status, tc.msg, tc.fix, tc.evidence...)
		})
	}
}

func TestLocalAccounts(t *testing.T) {
	admin := &SignInFacts{Kubeconfig: "/k", User: "clusterAdmin_rg_aks-poc", ClientCertificate: true, Run: podidRun()}
	wantOne(t, checkLocalAccounts, admin, Fail, "has local accounts disabled", "podid get-credentials --state-dir /s -f /k",
		"Getting static credential isn't allowed because this cluster is set to disable local accounts.")

	aad := signedIn(bob)
	aad.Run = podidRun()
	wantOne(t, checkLocalAccounts, aad, Pass, "does not sign in with a local account", "")

	own := &SignInFacts{Kubeconfig: "/s/run/kubeconfig", ClientCertificate: true, Run: podidRun()}
	wantOne(t, checkLocalAccounts, own, Pass, "local accounts are disabled", "")

	enabled := &SignInFacts{Kubeconfig: "/k", ClientCertificate: true, Run: podidRun()}
	enabled.Run.LocalAccounts = true
	if got := checkLocalAccounts(&Facts{SignIn: enabled}); got != nil {
		t.Fatalf("findings with local accounts enabled: %+v", got)
	}
}

func TestSignInErrorLinesDropTokens(t *testing.T) {
	got := errorLines("To sign in, use a web browser\nerror: bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here\nAADSTS7000222: expired\n")
	want := []string{"error: bad token [token removed] here", "AADSTS7000222: expired"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("errorLines = %q, want %q", got, want)
	}
}

func TestSignInChecksKeepOnlySignIn(t *testing.T) {
	names := func(cs []Check) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name())
		}
		return strings.Join(out, ",")
	}
	if got := names(SignInChecks(Checks(), true)); got != "gather,kubeconfig-auth,signin-identity,local-accounts" {
		t.Fatalf("with gather: %s", got)
	}
	if got := names(SignInChecks(Checks(), false)); got != "kubeconfig-auth,signin-identity,local-accounts" {
		t.Fatalf("without gather: %s", got)
	}
}

func TestGroupsOverage(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	for token, want := range map[string]bool{
		jwt(`{"upn":"olivia@contoso.com","_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://graph.windows.net/t/users/o/getMemberObjects"}}}`): true,
		jwt(`{"upn":"alice@contoso.com","groups":["ad1a5e0c-2f4b-4d6a-8e1c-9b7f3a5d0c03"]}`):                                                                               false,
		jwt(`{"_claim_names":{"roles":"src1"}}`): false,
		"not-a-jwt":                              false,
		"a.!!!.c":                                false,
	} {
		if got := groupsOverage(token); got != want {
			t.Errorf("groupsOverage(%.60s…) = %v, want %v", token, got, want)
		}
	}
}
