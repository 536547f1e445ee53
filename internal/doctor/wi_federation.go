package doctor

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/podid/podid/internal/wi"
)

// MaxFederatedCredentials is Azure's limit of federated credentials per
// identity; the embedded cloud's cloud.MaxFederatedCredentials is the same.
const MaxFederatedCredentials = 20

// wiAccount is a ServiceAccount labelled pods in scope run as, with the
// client ID it names.
type wiAccount struct{ ns, name, clientID string }

// wiAccounts are the ServiceAccounts of the running labelled pods in scope
// that name a client ID, in order.
func wiAccounts(f *Facts) []wiAccount {
	seen := map[string]wiAccount{}
	for i := range f.Pods {
		p := &f.Pods[i]
		if !wiLabelled(p) || !wiRunning(p) || !f.PodInScope(p) {
			continue
		}
		if id := clientIDOf(f, p); id != "" {
			seen[key(p.Namespace, wi.ServiceAccountOf(&p.Spec))] = wiAccount{ns: p.Namespace, name: wi.ServiceAccountOf(&p.Spec), clientID: id}
		}
	}
	out := make([]wiAccount, 0, len(seen))
	for _, k := range objSortedKeys(seen) {
		out = append(out, seen[k])
	}
	return out
}

// checkWIFederatedCredential: Azure AD exchanges a labelled pod's token
// only for an identity with a federated credential naming the cluster's
// issuer, the ServiceAccount's subject and api://AzureADTokenExchange,
// exactly; otherwise it answers AADSTS70021. The rules are federated token
// mode's (matchFederation).
func checkWIFederatedCredential(f *Facts) []Finding {
	accounts := wiAccounts(f)
	if len(accounts) == 0 {
		return nil
	}
	issuer := f.Federation.Issuer
	if issuer == "" {
		return []Finding{{Status: Skip, Message: "the cluster's service-account issuer could not be read, so the federated credentials cannot be compared with it",
			Evidence: []string{f.Federation.IssuerErr}, Fix: "kubectl get --raw /.well-known/openid-configuration"}}
	}
	var out []Finding
	ok := 0
	for _, a := range accounts {
		if fd, done := wiFederation(f, a, issuer); done {
			out = append(out, fd)
		} else {
			ok++
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("%d ServiceAccount%s trusted by the identity %s client ID names", ok, plural(ok, " is", "s are"), plural(ok, "its", "their"))})
	}
	return out
}

// wiFederation is the finding on one ServiceAccount, or done false when
// its identity trusts it.
func wiFederation(f *Facts, a wiAccount, issuer string) (fd Finding, done bool) {
	obj := Object("ServiceAccount", a.ns, a.name)
	subject := wiSubject(a.ns, a.name)
	name, rg := wiIdentityNameAndGroup(f, a.clientID)
	list := fmt.Sprintf("az identity federated-credential list --identity-name %s --resource-group %s", name, rg)
	if f.Cloud == nil {
		return Finding{Status: Skip, Object: obj, Message: "skipped: no cloud access; this command lists the federated credentials of the identity the ServiceAccount names", Fix: list}, true
	}
	cid := strings.ToLower(a.clientID)
	if e, bad := f.Cloud.WorkloadIdentityErrors[cid]; bad {
		return Finding{Status: Skip, Object: obj, Message: fmt.Sprintf("the cloud did not show the identity with client ID %s or its federated credentials", a.clientID), Evidence: []string{e}, Fix: list}, true
	}
	id, found := f.Cloud.WorkloadIdentities[cid]
	if !found {
		return Finding{Status: Warn, Object: obj,
			Message: fmt.Sprintf("no user-assigned identity the doctor can read has client ID %s: it is an app registration (whose federated credentials are in Microsoft Graph), in a subscription the doctor cannot read, or the annotation is wrong", a.clientID),
			Fix:     fmt.Sprintf("az identity list --query \"[?clientId=='%s']\"", guidOr(a.clientID))}, true
	}
	fcs := id.FederatedCredentials
	verdict := matchFederation(fcs, issuer, subject, "the ServiceAccount's")
	if verdict.ok {
		return Finding{}, false
	}
	if other := trustsLiveAccount(f, fcs, verdict.closest, issuer); other != "" {
		// One identity may serve many ServiceAccounts, each with its own
		// credential: that one is not a mistake to update away.
		verdict = federationVerdict{problem: fmt.Sprintf("no federated credential of the identity trusts %q (%s trusts ServiceAccount %s, which exists and keeps it)", subject, verdict.closest, other)}
	}
	ev := append([]string{"identity " + id.ResourceID, "cluster issuer " + issuer, "ServiceAccount subject " + subject}, describeCredentials(fcs)...)
	fix := federationFix(verdict, credentialName(a), name, rg, issuer, subject)
	msg := verdict.problem + "; Azure AD refuses the pods' token exchanges with AADSTS70021 (no matching federated identity record)"
	if verdict.closest == "" && len(fcs) >= MaxFederatedCredentials {
		msg = fmt.Sprintf("the identity has %d federated credentials, Azure's limit, and none trusts the ServiceAccount: Azure refuses another, so AADSTS70021 stays until one it no longer needs (see the evidence) is deleted", len(fcs))
		fix = fmt.Sprintf("az identity federated-credential delete --name <unused credential> --identity-name %s --resource-group %s --yes && %s", name, rg, fix)
	}
	return Finding{Status: Fail, Object: obj, Message: msg, Evidence: ev, Fix: fix}, true
}

// trustsLiveAccount is "namespace/name" when credential name trusts
// issuer for another ServiceAccount that exists in the cluster, else "".
func trustsLiveAccount(f *Facts, fcs []FederatedCredential, name, issuer string) string {
	for _, fc := range fcs {
		rest, isSA := strings.CutPrefix(fc.Subject, "system:serviceaccount:")
		ns, sa, _ := strings.Cut(rest, ":")
		if fc.Name == name && fc.Issuer == issuer && isSA && f.ServiceAccount(ns, sa) != nil {
			return key(ns, sa)
		}
	}
	return ""
}

// credentialName names a new credential after the ServiceAccount, within
// Azure's rule (letters, digits, '-' and '_', at most 120).
func credentialName(a wiAccount) string {
	n := strings.ReplaceAll(a.ns+"-"+a.name, ".", "-")
	if len(n) > 120 {
		n = n[:120]
	}
	return n
}

// wiIdentityNameAndGroup names the identity with clientID for az: from the
// cloud's answer, else an AzureIdentity with that client ID, else az
// looks it up.
func wiIdentityNameAndGroup(f *Facts, clientID string) (name, group string) {
	rid := ""
	if f.Cloud != nil {
		rid = f.Cloud.WorkloadIdentities[strings.ToLower(clientID)].ResourceID
	}
	for i := range f.Identities {
		if id := &f.Identities[i]; rid == "" && strings.EqualFold(id.Spec.ClientID, clientID) {
			rid = id.Spec.ResourceID
		}
	}
	if r, err := arm.ParseResourceID(rid); err == nil {
		return r.Name, r.ResourceGroupName
	}
	query := func(field string) string {
		return fmt.Sprintf(`"$(az identity list --query "[?clientId=='%s'].%s" -o tsv)"`, guidOr(clientID), field)
	}
	return query("name"), query("resourceGroup")
}

// guidOr is s when it looks like a client ID, else a placeholder: the
// annotation is free text, and fix commands are pasted into a shell.
func guidOr(s string) string {
	if s == "" || strings.Trim(strings.ToLower(s), "0123456789abcdef-") != "" {
		return "<client ID>"
	}
	return s
}
