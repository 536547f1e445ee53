package doctor

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/wi"
)

// FederatedAudience is the audience Azure AD requires of an exchanged
// Kubernetes token (the agent asks for it).
const FederatedAudience = wi.Audience

// cloudChecks are the checks that need the cloud's answers or the
// cluster's issuer.
func cloudChecks() []Check {
	return []Check{
		CheckFunc{CheckName: "federated-credential", Fn: checkFederatedCredential},
		CheckFunc{CheckName: "issuer-discovery", Fn: checkIssuerDiscovery},
		CheckFunc{CheckName: "vault-access", Fn: checkVaultAccess},
	}
}

// agentSubject is the subject of the agent's service-account tokens.
func agentSubject(f *Facts) string {
	sa := f.Settings.AgentServiceAccount
	if sa == "" {
		sa = "kube-system/podid-nmi"
	}
	return "system:serviceaccount:" + strings.Replace(sa, "/", ":", 1)
}

// checkFederatedCredential: every user-assigned identity that federated
// mode serves needs a federated credential trusting the cluster's issuer,
// the agent's subject and Azure AD's audience, exactly; otherwise Azure AD
// refuses each exchange with AADSTS70021.
func checkFederatedCredential(f *Facts) []Finding {
	var out []Finding
	ok := 0
	for i := range f.Identities {
		id := &f.Identities[i]
		if !federated(f, id) || !f.IdentityInScope(id) {
			continue
		}
		obj := Object("AzureIdentity", id.Namespace, id.Name)
		name, rg := identityNameAndGroup(id)
		issuer, subject := f.Federation.Issuer, agentSubject(f)
		list := fmt.Sprintf("az identity federated-credential list --identity-name %s --resource-group %s", name, rg)
		if f.Cloud == nil {
			out = append(out, Finding{Status: Skip, Object: obj, Message: "skipped: no cloud access; this command lists the identity's federated credentials", Fix: list})
			continue
		}
		if e, bad := f.Cloud.Errors[strings.ToLower(id.Spec.ResourceID)]; bad {
			out = append(out, Finding{Status: Skip, Object: obj, Message: "the cloud did not list the identity's federated credentials", Evidence: []string{e}, Fix: list})
			continue
		}
		fcs := f.Cloud.FederatedCredentials[strings.ToLower(id.Spec.ResourceID)]
		verdict := matchFederation(fcs, issuer, subject, "the agent's")
		if verdict.ok {
			ok++
			continue
		}
		out = append(out, Finding{
			Status: Fail, Object: obj,
			Message:  verdict.problem + "; Azure AD refuses every token exchange for it with AADSTS70021 (no matching federated identity record)",
			Evidence: append([]string{"cluster issuer " + orPlaceholder(issuer, "unknown: "+f.Federation.IssuerErr), "agent subject " + subject}, describeCredentials(fcs)...),
			Fix:      federationFix(verdict, "podid", name, rg, issuer, subject),
		})
	}
	if len(out) == 0 && ok > 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("%d federated identit%s the cluster's issuer and the agent's subject", ok, plural(ok, "y trusts", "ies trust"))})
	}
	return out
}

type federationVerdict struct {
	ok bool
	// problem says what is wrong, closest names the credential to update.
	problem, closest string
}

// federationFix is the az command that makes the identity name in group
// rg trust issuer and subject: update the closest credential, else create
// one called create.
func federationFix(v federationVerdict, create, name, rg, issuer, subject string) string {
	verb, cred := "create", create
	if v.closest != "" {
		verb, cred = "update", v.closest
	}
	return fmt.Sprintf("az identity federated-credential %s --name %s --identity-name %s --resource-group %s --issuer %s --subject %s --audiences %s",
		verb, cred, name, rg, orPlaceholder(issuer, "<cluster issuer>"), subject, FederatedAudience)
}

// matchFederation decides whether one of fcs trusts issuer and subject
// with Azure AD's audience, and otherwise what is closest and wrong.
// whose names the subject's owner in messages ("the agent's").
// Workload identity and federated token mode share it: Azure AD applies
// the same rule to both.
func matchFederation(fcs []FederatedCredential, issuer, subject, whose string) federationVerdict {
	if len(fcs) == 0 {
		return federationVerdict{problem: "the identity has no federated credential"}
	}
	for _, fc := range fcs {
		if fc.Issuer == issuer && fc.Subject == subject && hasAudience(fc) {
			return federationVerdict{ok: true}
		}
	}
	for _, fc := range fcs {
		sameIssuer := fc.Issuer == issuer
		slashOnly := !sameIssuer && strings.TrimSuffix(fc.Issuer, "/") == strings.TrimSuffix(issuer, "/")
		switch {
		case slashOnly && fc.Subject == subject:
			return federationVerdict{closest: fc.Name, problem: fmt.Sprintf("federated credential %s names issuer %q and the cluster's is %q: they differ by a trailing slash, and Azure AD compares them exactly", fc.Name, fc.Issuer, issuer)}
		case sameIssuer && fc.Subject != subject:
			return federationVerdict{closest: fc.Name, problem: fmt.Sprintf("federated credential %s trusts subject %q, not %s %q", fc.Name, fc.Subject, whose, subject)}
		case sameIssuer && !hasAudience(fc):
			return federationVerdict{closest: fc.Name, problem: fmt.Sprintf("federated credential %s has audiences %v, without %s", fc.Name, fc.Audiences, FederatedAudience)}
		case fc.Subject == subject:
			return federationVerdict{closest: fc.Name, problem: fmt.Sprintf("federated credential %s trusts issuer %q, not the cluster's %q", fc.Name, fc.Issuer, issuer)}
		}
	}
	return federationVerdict{problem: fmt.Sprintf("none of the identity's %d federated credentials trusts the cluster's issuer and %s subject", len(fcs), whose)}
}

func hasAudience(fc FederatedCredential) bool {
	for _, a := range fc.Audiences {
		if a == FederatedAudience {
			return true
		}
	}
	return false
}

func describeCredentials(fcs []FederatedCredential) []string {
	out := make([]string, 0, len(fcs))
	for _, fc := range fcs {
		out = append(out, fmt.Sprintf("federated credential %s: issuer %s, subject %s, audiences %s", fc.Name, fc.Issuer, fc.Subject, strings.Join(fc.Audiences, ",")))
	}
	return out
}

// checkIssuerDiscovery: Azure AD verifies an exchanged token with the keys
// the issuer's discovery document points to; an issuer it cannot read
// fails every exchange.
func checkIssuerDiscovery(f *Facts) []Finding {
	uses := false
	for i := range f.Identities {
		uses = uses || (federated(f, &f.Identities[i]) && f.IdentityInScope(&f.Identities[i]))
	}
	if !uses {
		return nil
	}
	fed := f.Federation
	switch {
	case fed.Issuer == "" && fed.IssuerErr == "":
		return []Finding{{Status: Skip, Message: "the cluster's issuer was not read"}}
	case fed.Issuer == "":
		return []Finding{{Status: Warn, Message: "the cluster's service-account issuer could not be read", Evidence: []string{fed.IssuerErr},
			Fix: "kubectl get --raw /.well-known/openid-configuration"}}
	case fed.DiscoveryErr != "":
		return []Finding{{Status: Fail, Message: fmt.Sprintf("the issuer %s does not serve its discovery document, so Azure AD cannot verify the agent's tokens", fed.Issuer),
			Evidence: []string{fed.DiscoveryErr},
			Fix:      "az aks update --resource-group <group> --name <cluster> --enable-oidc-issuer   # AKS: serve the issuer publicly"}}
	}
	return []Finding{{Status: Pass, Message: fmt.Sprintf("the issuer %s serves its discovery document", fed.Issuer)}}
}

// identityNameAndGroup reads an identity's name and resource group from
// its resource ID, with placeholders when it is malformed.
func identityNameAndGroup(id *podidv1.AzureIdentity) (name, group string) {
	rid, err := arm.ParseResourceID(id.Spec.ResourceID)
	if err != nil {
		return "<identity>", "<group>"
	}
	return rid.Name, rid.ResourceGroupName
}

func orPlaceholder(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}
