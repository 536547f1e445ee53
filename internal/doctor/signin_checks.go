package doctor

import (
	"fmt"
	"regexp"
	"strings"
)

// What kubectl and Azure print, word for word (client-go's azure stub,
// its exec authenticator, the API server's Forbidden, AKS).
const (
	azurePluginRemoved1  = "error: The azure auth plugin has been removed."
	azurePluginRemoved2  = "Please use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead."
	azurePluginRemoved3  = "See https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins for further details"
	pluginNotInstalled   = "It looks like you are trying to use a client-go credential plugin that is not installed."
	kubectlUnauthorized  = "error: You must be logged in to the server (Unauthorized)"
	localAccountsRefusal = "Getting static credential isn't allowed because this cluster is set to disable local accounts."
	// expiredSecretCode is Azure AD's code for an expired client secret.
	expiredSecretCode = "AADSTS7000222"
	// readerRole is the Azure RBAC role that lets a person list pods.
	readerRole = "Azure Kubernetes Service RBAC Reader"
)

// signInChecks are the checks of a kubeconfig's sign-in.
func signInChecks() []Check {
	return []Check{
		CheckFunc{CheckName: "kubeconfig-auth", Fn: checkKubeconfigAuth},
		CheckFunc{CheckName: "signin-identity", Fn: checkSignInIdentity},
		CheckFunc{CheckName: "local-accounts", Fn: checkLocalAccounts},
	}
}

// SignInChecks keeps, of checks, those that need only the sign-in facts,
// and gather when withGather: what runs when the cluster could not be
// read with the kubeconfig (gather then says why; when the kubeconfig
// could not even sign in, the sign-in checks do).
func SignInChecks(checks []Check, withGather bool) []Check {
	want := map[string]bool{"gather": withGather}
	for _, c := range signInChecks() {
		want[c.Name()] = true
	}
	var out []Check
	for _, c := range checks {
		if want[c.Name()] {
			out = append(out, c)
		}
	}
	return out
}

// userObject names the kubeconfig's user in findings.
func (s *SignInFacts) userObject() string {
	return fmt.Sprintf("kubeconfig %s user %s", s.Kubeconfig, s.User)
}

// getCredentials is the command that rewrites the kubeconfig with an
// Azure AD sign-in: podid's under a podid up run, az's otherwise.
func (s *SignInFacts) getCredentials() string {
	if s.Run != nil {
		return fmt.Sprintf("podid get-credentials --state-dir %s -f %s", s.Run.StateDir, s.Kubeconfig)
	}
	rg, name := s.clusterNames()
	return fmt.Sprintf("az aks get-credentials --resource-group %s --name %s --file %s --overwrite-existing", rg, name, s.Kubeconfig)
}

// clusterNames are the managed cluster's resource group and name: the
// run's, or those az aks get-credentials wrote into the user's name
// (clusterUser_<rg>_<name>), or placeholders.
func (s *SignInFacts) clusterNames() (rg, name string) {
	if s.Run != nil {
		return s.Run.ResourceGroup, s.Run.ClusterName
	}
	for _, p := range []string{"clusterUser_", "clusterAdmin_"} {
		if rest, ok := strings.CutPrefix(s.User, p); ok {
			if rg, name, ok := strings.Cut(rest, "_"); ok {
				return rg, name
			}
		}
	}
	return "<resource group>", "<cluster>"
}

func checkKubeconfigAuth(f *Facts) []Finding {
	s := f.SignIn
	if s == nil {
		return nil
	}
	if s.Err != "" {
		return []Finding{{Status: Fail, Object: "kubeconfig " + s.Kubeconfig, Message: "the kubeconfig cannot be used", Evidence: []string{s.Err},
			Fix: s.getCredentials()}}
	}
	obj := s.userObject()
	switch {
	case s.AuthProvider == "azure":
		fix := "kubelogin convert-kubeconfig -l azurecli --kubeconfig " + s.Kubeconfig
		msg := "the user signs in with the azure auth provider, which kubectl and client-go removed in 1.26: rewrite it to the kubelogin exec plugin (kubelogin convert-kubeconfig -l azurecli after az login, or -l devicecode)"
		if s.Run != nil {
			fix = s.getCredentials()
			msg += ", or write a new kubeconfig with podid get-credentials"
		}
		return []Finding{{Status: Fail, Object: obj, Message: msg,
			Evidence: []string{"auth-provider: {name: azure}", azurePluginRemoved1, azurePluginRemoved2, azurePluginRemoved3}, Fix: fix}}
	case s.AuthProvider != "":
		return []Finding{{Status: Warn, Object: obj, Message: fmt.Sprintf("the user signs in with the %s auth provider, which kubectl 1.26 and later no longer build in", s.AuthProvider),
			Evidence: []string{"auth-provider: {name: " + s.AuthProvider + "}"}, Fix: "Replace the auth-provider with the exec credential plugin of " + s.AuthProvider}}
	case s.Exec != nil && s.Exec.Path == "":
		ev := []string{"Unable to connect to the server: getting credentials: exec: executable " + s.Exec.Command + " not found", pluginNotInstalled}
		if h := strings.TrimSpace(s.Exec.InstallHint); h != "" {
			ev = append(ev, strings.Split(h, "\n")...)
		}
		fix := "az aks install-cli"
		msg := fmt.Sprintf("the user's exec credential plugin %s is not on PATH, so kubectl cannot sign in: install kubelogin (az aks install-cli, or go install github.com/Azure/kubelogin@latest)", s.Exec.Command)
		if !strings.Contains(s.Exec.Command, "kubelogin") {
			msg = fmt.Sprintf("the user's exec credential plugin %s is not there, so kubectl cannot sign in", s.Exec.Command)
			fix = s.getCredentials()
		}
		return []Finding{{Status: Fail, Object: obj, Message: msg, Evidence: ev, Fix: fix}}
	case s.Exec != nil:
		where := ""
		if s.Exec.Path != s.Exec.Command {
			where = " (" + s.Exec.Path + ")"
		}
		return []Finding{{Status: Pass, Object: obj, Message: fmt.Sprintf("the user signs in with the exec credential plugin %s%s", s.Exec.Command, where)}}
	case s.ClientCertificate:
		return []Finding{{Status: Pass, Object: obj, Message: "the user signs in with a client certificate"}}
	case s.Token:
		return []Finding{{Status: Pass, Object: obj, Message: "the user signs in with a bearer token"}}
	}
	return []Finding{{Status: Warn, Object: obj, Message: "the user has no credential: the API server sees an anonymous user", Fix: s.getCredentials()}}
}

// clientSecretApp is the app ID AADSTS7000222 names.
var clientSecretApp = regexp.MustCompile(`client secret keys for app '([^']+)'`)

func checkSignInIdentity(f *Facts) []Finding {
	s := f.SignIn
	if s == nil || s.Err != "" {
		return nil
	}
	obj := s.userObject()
	if s.AuthProvider != "" || (s.Exec != nil && s.Exec.Path == "") {
		return []Finding{{Status: Skip, Object: obj, Message: "the doctor could not sign in with this kubeconfig (see kubeconfig-auth)"}}
	}
	if p := s.Plugin; p != nil && p.Err != "" {
		return []Finding{pluginFinding(s, obj, p)}
	}
	r := s.Review
	switch {
	case r == nil:
		return nil
	case r.Unauthorized:
		return []Finding{unauthorizedFinding(s, obj)}
	case r.Err != "":
		return []Finding{{Status: Skip, Object: obj, Message: "the API server could not say who the kubeconfig signs in as", Evidence: []string{r.Err},
			Fix: fmt.Sprintf("kubectl --kubeconfig %s auth whoami", s.Kubeconfig)}}
	}
	who := fmt.Sprintf("signed in as %s, groups %s", r.User, strings.Join(r.Groups, ", "))
	var denied []AccessFact
	for _, a := range s.Access {
		if !a.Allowed && a.Err == "" {
			denied = append(denied, a)
		}
	}
	if len(denied) == 0 {
		return []Finding{{Status: Pass, Object: obj, Message: fmt.Sprintf("the kubeconfig signs in as %s, who may list pods", r.User), Evidence: []string{who}}}
	}
	ev := []string{who}
	azure := false
	for _, a := range denied {
		ev = append(ev, forbiddenText(r.User, a))
		azure = azure || strings.Contains(a.Reason, "in Azure")
	}
	ev = append(ev, bindingEvidence(s)...)
	msg := fmt.Sprintf("user %s signs in but may not list pods: no Kubernetes RBAC binding grants it", r.User)
	fix := fmt.Sprintf("kubectl create clusterrolebinding %s-view --clusterrole=view --user=%s", sanitizeName(r.User), r.User)
	if azure {
		msg = fmt.Sprintf("user %s signs in but may not list pods: neither Kubernetes RBAC nor an Azure role assignment on the cluster grants it (Azure RBAC)", r.User)
		fix = grantCommand(s, r.User)
	}
	if s.Plugin != nil && s.Plugin.GroupsOverage {
		ev = append(ev, "the token has _claim_names.groups and no groups claim: Azure AD's group overage")
		msg += ". Azure AD left the user's groups out of the token (group overage: the user is in more than 200 groups), so the API server sees none of them and no binding to a group applies, the admin groups' cluster-admin included"
		if azure {
			msg += "; Azure RBAC reads group memberships from Azure AD, so a role assigned to one of the user's groups does apply"
		} else {
			msg += "; bind the user by name, or enable Azure RBAC for Kubernetes (az aks update --enable-azure-rbac), which reads group memberships from Azure AD"
		}
	}
	return []Finding{{Status: Fail, Object: fmt.Sprintf("User %q", r.User), Message: msg, Evidence: ev, Fix: fix}}
}

// pluginFinding explains an exec plugin that gave no credential.
func pluginFinding(s *SignInFacts, obj string, p *PluginRun) Finding {
	if p.TimedOut || p.Prompted {
		return Finding{Status: Skip, Object: obj,
			Message:  fmt.Sprintf("could not sign in non-interactively: the exec plugin %s waits for a person to sign in (%s); sign in once, then run the doctor again", s.Exec.Command, p.Err),
			Evidence: p.Stderr, Fix: fmt.Sprintf("kubectl --kubeconfig %s auth whoami", s.Kubeconfig)}
	}
	ev := append([]string{fmt.Sprintf("Unable to connect to the server: getting credentials: exec: executable %s failed with exit code %d", s.Exec.Command, p.ExitCode)}, p.Stderr...)
	joined := strings.Join(p.Stderr, "\n")
	if strings.Contains(joined, expiredSecretCode) {
		id := s.Exec.ClientID
		if m := clientSecretApp.FindStringSubmatch(joined); m != nil {
			id = m[1]
		}
		if id == "" {
			id = "<client ID>"
		}
		return Finding{Status: Fail, Object: obj,
			Message:  fmt.Sprintf("the service principal %s cannot sign in: its client secret has expired (%s); reset it and put the new secret in AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", id, expiredSecretCode),
			Evidence: ev, Fix: "az ad sp credential reset --id " + id}
	}
	if p.ExitCode == 0 && !strings.HasPrefix(p.Err, "exit code") {
		ev = []string{p.Err}
	}
	return Finding{Status: Fail, Object: obj, Message: fmt.Sprintf("the exec plugin %s gave no credential (%s)", s.Exec.Command, p.Err), Evidence: ev, Fix: s.getCredentials()}
}

// unauthorizedFinding explains a credential the API server refused.
func unauthorizedFinding(s *SignInFacts, obj string) Finding {
	msg := "the API server refused the credential (401 Unauthorized)"
	switch {
	case s.Exec != nil && s.Exec.Login == "spn":
		msg += ": the service principal's token is for another audience or tenant, or its secret has expired (" + expiredSecretCode + ")"
	case s.Exec != nil:
		msg += ": the token is for another audience (--server-id) or tenant (--tenant-id) than the cluster trusts, or it was issued by a cloud the cluster no longer trusts"
	case s.ClientCertificate:
		msg += ": the client certificate is not signed by the cluster's CA, or local accounts are disabled"
	default:
		msg += ": the token has expired or is for another cluster"
	}
	return Finding{Status: Fail, Object: obj, Message: msg, Evidence: []string{kubectlUnauthorized, s.Review.Err}, Fix: s.getCredentials()}
}

// forbiddenText is the error kubectl prints for a, as the API server
// words it (forbiddenMessage in k8s.io/apiserver) with the authorizer's
// reason.
func forbiddenText(user string, a AccessFact) string {
	gr := a.Resource
	if a.Group != "" {
		gr += "." + a.Group
	}
	where := "at the cluster scope"
	if a.Namespace != "" {
		where = fmt.Sprintf("in the namespace %q", a.Namespace)
	}
	msg := fmt.Sprintf("Error from server (Forbidden): %s is forbidden: User %q cannot %s resource %q in API group %q %s", gr, user, a.Verb, a.Resource, a.Group, where)
	if a.Reason != "" {
		msg += ": " + a.Reason
	}
	return msg
}

// bindingEvidence says which bindings grant cluster-admin or name the
// user or the admin groups.
func bindingEvidence(s *SignInFacts) []string {
	if s.BindingsErr != "" {
		return []string{s.BindingsErr}
	}
	if len(s.Bindings) == 0 {
		return []string{"no ClusterRoleBinding or RoleBinding grants cluster-admin or names the user or its groups"}
	}
	var out []string
	for _, b := range s.Bindings {
		out = append(out, fmt.Sprintf("%s binds %s to %s", b.Object, b.Role, strings.Join(b.Subjects, ", ")))
	}
	return out
}

// grantCommand assigns the user Azure RBAC's reader role on the cluster.
func grantCommand(s *SignInFacts, user string) string {
	if s.Run != nil {
		return fmt.Sprintf("podid cloud role grant --state-dir %s --principal %s --role %q --scope managedCluster/%s", s.Run.StateDir, user, readerRole, s.Run.ClusterName)
	}
	rg, name := s.clusterNames()
	return fmt.Sprintf("az role assignment create --role %q --assignee %s --scope \"$(az aks show --resource-group %s --name %s --query id -o tsv)\"", readerRole, user, rg, name)
}

// sanitizeName turns a user name into a valid object name.
func sanitizeName(u string) string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9.-]+`).ReplaceAllString(strings.ToLower(u), "-"), "-.")
}

func checkLocalAccounts(f *Facts) []Finding {
	s := f.SignIn
	if s == nil || s.Err != "" || s.Run == nil || s.Run.LocalAccounts {
		return nil
	}
	obj := s.userObject()
	if !s.ClientCertificate || s.Kubeconfig == s.Run.Kubeconfig {
		return []Finding{{Status: Pass, Object: obj, Message: "local accounts are disabled and the kubeconfig does not sign in with a local account"}}
	}
	return []Finding{{Status: Fail, Object: obj,
		Message:  fmt.Sprintf("the kubeconfig signs in with a client certificate (a local account), but cluster %s has local accounts disabled: its admin credentials are not handed out and people sign in with Azure AD; write a kubeconfig without --admin", s.Run.ClusterName),
		Evidence: []string{"local accounts disabled (podid up --disable-local-accounts)", "podid get-credentials --admin: " + localAccountsRefusal},
		Fix:      s.getCredentials()}}
}
