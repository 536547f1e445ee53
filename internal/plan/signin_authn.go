package plan

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"
)

// Claim mappings of the sign-in, as AKS's token authenticator (guard)
// maps Azure AD tokens: a person is their upn; a service principal, whose
// app token has no upn, is its object ID; groups are the groups claim.
//
// Groups are mapped by expression, not by claim, on purpose. Past 200
// groups Azure AD leaves the groups claim out and names Graph in
// _claim_names/_claim_sources instead (overage). Mapped by claim,
// kube-apiserver takes that for a distributed claim, fetches it, cannot
// use Graph's answer (it wants a JWT of the issuer) and refuses the whole
// token: the user gets Unauthorized. The expression ignores distributed
// claims, so such a user signs in without groups; guard would ask Graph
// for them, which no API server configuration can, and Azure RBAC
// (internal/azrbac) reads the memberships from the directory itself.
const (
	usernameExpression = "has(claims.upn) ? claims.upn : claims.oid"
	groupsExpression   = "has(claims.groups) ? claims.groups : []"
	uidClaim           = "oid"
)

// AuthenticationConfiguration is the kube-apiserver AuthenticationConfiguration
// (apiserver.config.k8s.io/v1, GA in Kubernetes 1.34) that trusts tokens
// of issuer for the AKS server app, fetching the issuer's keys over TLS
// signed by caPEM. Client certificates keep working beside it: they are
// configured by flags, not here.
func (s *SignIn) AuthenticationConfiguration(issuer string, caPEM []byte) ([]byte, error) {
	cfg := apiserverv1.AuthenticationConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: apiserverv1.SchemeGroupVersion.String(), Kind: "AuthenticationConfiguration"},
		JWT: []apiserverv1.JWTAuthenticator{{
			Issuer: apiserverv1.Issuer{URL: issuer, CertificateAuthority: string(caPEM), Audiences: []string{s.ServerAppID}},
			ClaimValidationRules: []apiserverv1.ClaimValidationRule{{
				Expression: fmt.Sprintf("claims.tid == %q", s.TenantID),
				Message:    "the token is from another tenant than the cluster's",
			}},
			ClaimMappings: apiserverv1.ClaimMappings{
				Username: apiserverv1.PrefixedClaimOrExpression{Expression: usernameExpression},
				Groups:   apiserverv1.PrefixedClaimOrExpression{Expression: groupsExpression},
				UID:      apiserverv1.ClaimOrExpression{Claim: uidClaim},
			},
		}},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode authentication configuration: %w", err)
	}
	return out, nil
}
