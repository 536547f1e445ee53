package doctor

import (
	"fmt"
	"strings"
	"testing"

	podidv1 "github.com/podid/podid/api/v1"
)

const wiIdentityID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"

// wiFedFacts is a labelled pod of apps run as ServiceAccount app, whose
// identity has fcs, on a cluster whose issuer is fedIssuer.
func wiFedFacts(fcs ...FederatedCredential) *Facts {
	f := facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "p"))
	f.Federation.Issuer = fedIssuer
	f.Cloud = &CloudFacts{WorkloadIdentities: map[string]WIIdentity{wiClientID: {ResourceID: wiIdentityID, FederatedCredentials: fcs}}}
	return f
}

func TestWIFederatedCredential(t *testing.T) {
	const subject = "system:serviceaccount:apps:app"
	aud := []string{FederatedAudience}
	tail := " --identity-name app-id --resource-group rg --issuer " + fedIssuer + " --subject " + subject + " --audiences api://AzureADTokenExchange"
	full := make([]FederatedCredential, 0, MaxFederatedCredentials)
	for i := 0; i < MaxFederatedCredentials; i++ {
		full = append(full, FederatedCredential{Name: fmt.Sprintf("other-%02d", i), Issuer: "https://elsewhere.example/", Subject: fmt.Sprintf("system:serviceaccount:x:sa%d", i), Audiences: aud})
	}
	runCases(t, "wi-federated-credential", map[string]checkCase{
		"a credential trusting the issuer, the ServiceAccount and Azure AD's audience passes": {
			facts: wiFedFacts(FederatedCredential{Name: "apps-app", Issuer: fedIssuer, Subject: subject, Audiences: aud}),
			want:  []want{{status: Pass, message: "1 ServiceAccount is trusted"}},
		},
		"an identity without a credential for the ServiceAccount gets the create command": {
			facts: wiFedFacts(),
			want: []want{{status: Fail, object: "ServiceAccount apps/app", message: "has no federated credential; Azure AD refuses the pods' token exchanges with AADSTS70021",
				fix: "az identity federated-credential create --name apps-app" + tail}},
		},
		"an issuer without its trailing slash is updated in place": {
			facts: wiFedFacts(FederatedCredential{Name: "cluster", Issuer: strings.TrimSuffix(fedIssuer, "/"), Subject: subject, Audiences: aud}),
			want: []want{{status: Fail, object: "ServiceAccount apps/app", message: "they differ by a trailing slash",
				fix: "az identity federated-credential update --name cluster" + tail}},
		},
		"a credential for another ServiceAccount names both subjects": {
			facts: wiFedFacts(FederatedCredential{Name: "old", Issuer: fedIssuer, Subject: "system:serviceaccount:apps:web", Audiences: aud}),
			want: []want{{status: Fail, object: "ServiceAccount apps/app", message: `not the ServiceAccount's "` + subject + `"`,
				fix: "az identity federated-credential update --name old" + tail}},
		},
		"a credential of a ServiceAccount that no longer exists is updated to this one": {
			facts: wiFedFacts(FederatedCredential{Name: "gone", Issuer: fedIssuer, Subject: "system:serviceaccount:apps:deleted", Audiences: aud}),
			want: []want{{status: Fail, object: "ServiceAccount apps/app", message: `trusts subject "system:serviceaccount:apps:deleted"`,
				fix: "az identity federated-credential update --name gone" + tail}},
		},
		"a credential of another ServiceAccount that exists is kept and one is created": {
			facts: func() *Facts {
				f := wiFedFacts(FederatedCredential{Name: "web", Issuer: fedIssuer, Subject: "system:serviceaccount:apps:web", Audiences: aud})
				f.WI.ServiceAccounts = append(f.WI.ServiceAccounts, *serviceAccount("apps", "web", wiClientID))
				return f
			}(),
			want: []want{{status: Fail, object: "ServiceAccount apps/app", message: "web trusts ServiceAccount apps/web, which exists and keeps it",
				fix: "az identity federated-credential create --name apps-app" + tail}},
		},
		"an identity at Azure's limit of 20 asks to delete one before creating": {
			facts: wiFedFacts(full...),
			want: []want{{status: Fail, object: "ServiceAccount apps/app", message: "Azure refuses another",
				fix: "az identity federated-credential delete --name <unused credential> --identity-name app-id --resource-group rg --yes && az identity federated-credential create --name apps-app" + tail}},
		},
		"without cloud access the check is skipped with the az command that would answer": {
			facts: func() *Facts {
				f := wiFedFacts()
				f.Cloud = nil
				return f
			}(),
			want: []want{{status: Skip, object: "ServiceAccount apps/app", message: "skipped: no cloud access",
				fix: `az identity federated-credential list --identity-name "$(az identity list --query "[?clientId=='` + wiClientID + `'].name" -o tsv)" --resource-group "$(az identity list --query "[?clientId=='` + wiClientID + `'].resourceGroup" -o tsv)"`}},
		},
		"without cloud access an AzureIdentity with the client ID names the identity": {
			facts: func() *Facts {
				f := wiFedFacts()
				f.Cloud = nil
				f.Identities = []podidv1.AzureIdentity{*msi("apps", "id", func(id *podidv1.AzureIdentity) { id.Spec.ClientID, id.Spec.ResourceID = wiClientID, wiIdentityID })}
				return f
			}(),
			want: []want{{status: Skip, object: "ServiceAccount apps/app", message: "skipped: no cloud access",
				fix: "az identity federated-credential list --identity-name app-id --resource-group rg"}},
		},
		"a client ID no readable identity has warns": {
			facts: func() *Facts {
				f := wiFedFacts()
				f.Cloud.WorkloadIdentities = nil
				return f
			}(),
			want: []want{{status: Warn, object: "ServiceAccount apps/app", message: "no user-assigned identity the doctor can read has client ID " + wiClientID,
				fix: `az identity list --query "[?clientId=='` + wiClientID + `']"`}},
		},
		"an unknown issuer skips rather than compare with nothing": {
			facts: func() *Facts {
				f := wiFedFacts()
				f.Federation = Federation{IssuerErr: "403 Forbidden"}
				return f
			}(),
			want: []want{{status: Skip, message: "issuer could not be read", fix: "kubectl get --raw /.well-known/openid-configuration"}},
		},
	})
}
