package doctor

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

const (
	fedIssuer = "https://oidc.example/tenant/cluster/"
	fedID     = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
)

func fedFacts(fcs ...FederatedCredential) *Facts {
	return &Facts{
		Identities: []podidv1.AzureIdentity{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "app"},
			Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ResourceID: fedID, ClientID: "c"},
		}},
		Settings:   Settings{TokenMode: podidv1.TokenModeFederated, AgentServiceAccount: "kube-system/podid-nmi"},
		Federation: Federation{Issuer: fedIssuer},
		Cloud:      &CloudFacts{FederatedCredentials: map[string][]FederatedCredential{strings.ToLower(fedID): fcs}, Errors: map[string]string{}},
	}
}

func TestFederatedCredentialCheck(t *testing.T) {
	const subject = "system:serviceaccount:kube-system:podid-nmi"
	aud := []string{FederatedAudience}
	cases := map[string]struct {
		facts   *Facts
		status  Status
		message string
		fix     string
	}{
		"a credential trusting the issuer, the agent's subject and Azure AD's audience passes": {
			facts:  fedFacts(FederatedCredential{Name: "podid", Issuer: fedIssuer, Subject: subject, Audiences: aud}),
			status: Pass, message: "1 federated identity trust",
		},
		"an identity without federated credentials fails with the create command": {
			facts:  fedFacts(),
			status: Fail, message: "has no federated credential; Azure AD refuses every token exchange for it with AADSTS70021",
			fix: "az identity federated-credential create --name podid --identity-name app-id --resource-group rg --issuer " + fedIssuer + " --subject " + subject + " --audiences api://AzureADTokenExchange",
		},
		"an issuer without the trailing slash is named as such, with the update command": {
			facts:  fedFacts(FederatedCredential{Name: "cluster", Issuer: strings.TrimSuffix(fedIssuer, "/"), Subject: subject, Audiences: aud}),
			status: Fail, message: "they differ by a trailing slash",
			fix: "az identity federated-credential update --name cluster --identity-name app-id --resource-group rg --issuer " + fedIssuer,
		},
		"a credential for another service account names both subjects": {
			facts:  fedFacts(FederatedCredential{Name: "old", Issuer: fedIssuer, Subject: "system:serviceaccount:kube-system:nmi", Audiences: aud}),
			status: Fail, message: `trusts subject "system:serviceaccount:kube-system:nmi", not the agent's "` + subject + `"`,
			fix: "az identity federated-credential update --name old",
		},
		"a credential without Azure AD's audience says which audience is missing": {
			facts:  fedFacts(FederatedCredential{Name: "aud", Issuer: fedIssuer, Subject: subject, Audiences: []string{"api://other"}}),
			status: Fail, message: "without api://AzureADTokenExchange",
		},
		"without cloud access the check is skipped and prints the az command that would answer": {
			facts: func() *Facts {
				f := fedFacts()
				f.Cloud = nil
				return f
			}(),
			status: Skip, message: "no cloud access",
			fix: "az identity federated-credential list --identity-name app-id --resource-group rg",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkFederatedCredential(tc.facts)
			if len(got) != 1 {
				t.Fatalf("want one finding, got %+v", got)
			}
			f := got[0]
			if f.Status != tc.status || !strings.Contains(f.Message, tc.message) || !strings.Contains(f.Fix, tc.fix) {
				t.Errorf("got %s %q fix %q; want %s containing %q, fix containing %q", f.Status, f.Message, f.Fix, tc.status, tc.message, tc.fix)
			}
		})
	}
}

func TestFederatedCredentialCheckIgnoresIdentitiesNotServedByExchange(t *testing.T) {
	f := fedFacts()
	f.Identities[0].Annotations = map[string]string{podidv1.TokenModeAnnotation: podidv1.TokenModeNode}
	if got := checkFederatedCredential(f); len(got) != 0 {
		t.Errorf("a node-mode identity needs no federated credential; got %+v", got)
	}
	if got := checkIssuerDiscovery(f); len(got) != 0 {
		t.Errorf("no federated identity, no issuer check; got %+v", got)
	}
}

func TestIssuerDiscoveryCheck(t *testing.T) {
	f := fedFacts()
	f.Federation.DiscoveryErr = "dial tcp: connection refused"
	got := checkIssuerDiscovery(f)
	if len(got) != 1 || got[0].Status != Fail || !strings.Contains(got[0].Message, "Azure AD cannot verify") || !strings.Contains(got[0].Fix, "--enable-oidc-issuer") {
		t.Errorf("got %+v", got)
	}
	f.Federation.DiscoveryErr = ""
	if got := checkIssuerDiscovery(f); len(got) != 1 || got[0].Status != Pass {
		t.Errorf("a reachable issuer passes; got %+v", got)
	}
}
