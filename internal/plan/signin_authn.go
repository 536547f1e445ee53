package plan

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"
)

// Claim mappings of the sign-in, as AKS's token authenticator (guard)
// maps Azure AD tokens: a person is their upn; a service principal, whose
// app token has no upn, is its object ID.
const (
	usernameExpression = "has(claims.upn) ? claims.upn : claims.oid"
	groupsClaim        = "groups"
	uidClaim           = "oid"
)

// AuthenticationConfiguration is the kube-apiserver AuthenticationConfiguration
// (apiserver.config.k8s.io/v1, GA in Kubernetes 1.34) that trusts tokens
// of issuer for the AKS server app, fetching the issuer's keys over TLS
// signed by caPEM. Client certificates keep working beside it: they are
// configured by flags, not here.
func (s *SignIn) AuthenticationConfiguration(issuer string, caPEM []byte) ([]byte, error) {
	empty := ""
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
				Groups:   apiserverv1.PrefixedClaimOrExpression{Claim: groupsClaim, Prefix: &empty},
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
