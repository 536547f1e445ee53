package doctor

import (
	"fmt"
	"slices"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
)

// checkSPSecret finds service-principal identities whose Secret
// (spec.clientPassword) is missing, cannot be read, or does not say which
// value the node agent should use. Identities that name no Secret are
// identity-fields' business.
func checkSPSecret(f *Facts) []Finding {
	var out []Finding
	examined := 0
	for i := range f.Identities {
		id := &f.Identities[i]
		ref := id.Spec.ClientPassword
		sp := id.Spec.Type == podidv1.ServicePrincipal || id.Spec.Type == podidv1.ServicePrincipalCertificate
		if !sp || ref == nil || ref.Name == "" || !f.IdentityInScope(id) {
			continue
		}
		ns := ref.Namespace
		if ns == "" {
			ns = id.Namespace
		}
		s, gathered := f.Secrets[key(ns, ref.Name)]
		if !gathered {
			continue
		}
		examined++
		secret := Object("Secret", ns, ref.Name)
		fnd := Finding{Object: Object("AzureIdentity", id.Namespace, id.Name), Evidence: []string{fmt.Sprintf("spec.clientPassword names %s", secret)}}
		switch {
		case s.Err != "":
			fnd.Status = Skip
			fnd.Message = fmt.Sprintf("Could not read %s, so whether it holds the service principal's credential is unknown.", secret)
			fnd.Evidence = append(fnd.Evidence, s.Err)
		case !s.Exists:
			fnd.Status = Fail
			fnd.Message = fmt.Sprintf("%s does not exist, so pods bound to this identity get no token.", secret)
			fnd.Fix = createSPSecretCmd(id.Spec.Type, ns, ref.Name)
		default:
			problem := spSecretProblem(id.Spec.Type, s.Keys)
			if problem == "" {
				continue
			}
			fnd.Status = Fail
			fnd.Message = fmt.Sprintf("%s %s, so pods bound to this identity get no token.", secret, problem)
			fnd.Evidence = append(fnd.Evidence, fmt.Sprintf("keys: %s", objQuote(s.Keys)))
			fnd.Fix = editCmd("secret", ns, ref.Name)
			if len(s.Keys) == 0 {
				fnd.Fix = fmt.Sprintf("kubectl -n %s delete secret %s && %s", ns, ref.Name, createSPSecretCmd(id.Spec.Type, ns, ref.Name))
			}
		}
		out = append(out, fnd)
	}
	if len(out) > 0 {
		return out
	}
	return objPass(examined, objPlural(examined, "service principal's Secret exists and names its credential plainly", "service principals' Secrets exist and name their credentials plainly"))
}

// spSecretProblem says what keeps the node agent from reading the
// credential out of a Secret with these keys, or "".
//
// For type 1 it is the agent's own rule, podidv1.ClientSecretKey.
func spSecretProblem(t podidv1.IdentityType, keys []string) string {
	if t == podidv1.ServicePrincipalCertificate {
		if !slices.Contains(keys, podidv1.SecretKeyCertificate) {
			return fmt.Sprintf("has no %q key holding the PEM certificate and key", podidv1.SecretKeyCertificate)
		}
		return ""
	}
	if len(keys) == 0 {
		return "holds no value"
	}
	if _, err := podidv1.ClientSecretKey("", keys); err != nil {
		return fmt.Sprintf("has keys %s and none is %q or %q, so the client secret cannot be told apart", strings.Join(keys, ", "), podidv1.SecretKeyClientSecret, podidv1.SecretKeyPassword)
	}
	return ""
}

// createSPSecretCmd creates the Secret the node agent reads for a service
// principal of type t.
func createSPSecretCmd(t podidv1.IdentityType, ns, name string) string {
	if t == podidv1.ServicePrincipalCertificate {
		return fmt.Sprintf("kubectl -n %s create secret generic %s --from-file=%s=<certificate-and-key.pem>", ns, name, podidv1.SecretKeyCertificate)
	}
	return fmt.Sprintf("kubectl -n %s create secret generic %s --from-literal=%s=<client secret>", ns, name, podidv1.SecretKeyClientSecret)
}
