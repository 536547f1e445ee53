package doctor

import (
	"fmt"
	"slices"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
)

// vaultVerdict is what the doctor can tell of one principal on one vault.
type vaultVerdict struct {
	// canRead: an access policy of the vault's tenant grants the
	// principal get on secrets.
	canRead bool
	// rbac: the vault ignores access policies and its role assignments,
	// which the doctor does not read, decide.
	rbac bool
	// detail says what the vault grants the principal, for the evidence.
	detail string
}

// decideVaultAccess decides whether principalID may get v's secrets, as
// Key Vault decides it: in an access-policy vault, a policy of the vault's
// tenant for that object ID granting get (or all) on secrets; reading
// versions or listing needs list too, which the fix grants with it.
func decideVaultAccess(v Vault, principalID string) vaultVerdict {
	if v.RBAC {
		return vaultVerdict{rbac: true, detail: fmt.Sprintf("vault %s uses Azure RBAC (enableRbacAuthorization): role assignments decide, not access policies", v.Name)}
	}
	var granted []string
	for _, p := range v.AccessPolicies {
		if !strings.EqualFold(p.ObjectID, principalID) || (p.TenantID != "" && !strings.EqualFold(p.TenantID, v.TenantID)) {
			continue
		}
		if slices.ContainsFunc(p.Secrets, func(s string) bool { return strings.EqualFold(s, "get") || strings.EqualFold(s, "all") }) {
			return vaultVerdict{canRead: true, detail: fmt.Sprintf("vault %s: an access policy grants secrets %s", v.Name, strings.Join(p.Secrets, ","))}
		}
		granted = append(granted, p.Secrets...)
	}
	if len(granted) > 0 {
		return vaultVerdict{detail: fmt.Sprintf("vault %s: the identity's access policy grants secrets %s, without get", v.Name, strings.Join(granted, ","))}
	}
	return vaultVerdict{detail: fmt.Sprintf("vault %s: no access policy for the identity among its %d", v.Name, len(v.AccessPolicies))}
}

// setPolicyFix is step 4 of the usual setup: the access policy an app
// reading secrets needs.
func setPolicyFix(vault, principalID string) string {
	return fmt.Sprintf("az keyvault set-policy --name %s --object-id %s --secret-permissions get list", vault, principalID)
}

// checkVaultAccess: an app reading Key Vault with a user-assigned
// identity needs the vault to let that identity's principal get secrets;
// otherwise Key Vault answers 403 Forbidden (AccessDenied: "does not have
// secrets get permission"). With --vault the doctor knows the vault and
// decides; without it, it warns only when the identity can read no vault
// it sees.
func checkVaultAccess(f *Facts) []Finding {
	var out []Finding
	for i := range f.Identities {
		id := &f.Identities[i]
		sub, ok := identitySubscription(id)
		if !ok || !f.IdentityInScope(id) {
			continue
		}
		if fd, ok := vaultFinding(f, id, sub); ok {
			fd.Object = Object("AzureIdentity", id.Namespace, id.Name)
			out = append(out, fd)
		}
	}
	return out
}

// vaultFinding is the verdict on one identity; ok is false when there is
// nothing to examine (no vault in its subscription and none named).
func vaultFinding(f *Facts, id *podidv1.AzureIdentity, sub string) (Finding, bool) {
	want := f.Settings.Vault
	show := "az keyvault list --subscription " + sub
	if want != "" {
		show = "az keyvault show --name " + want + " --query properties.accessPolicies"
	}
	if f.Cloud == nil {
		return Finding{Status: Skip, Message: "skipped: no cloud access; this command shows the vaults' access policies", Fix: show}, true
	}
	k := strings.ToLower(id.Spec.ResourceID)
	pid, ok := f.Cloud.Principals[k]
	if !ok {
		return Finding{Status: Skip, Message: "the cloud did not give the identity's principal ID", Evidence: nonEmpty(f.Cloud.PrincipalErrors[k]),
			Fix: "az identity show --ids " + id.Spec.ResourceID + " --query principalId"}, true
	}
	vaults, ok := f.Cloud.Vaults[strings.ToLower(sub)]
	if !ok {
		return Finding{Status: Skip, Message: "the cloud did not list the key vaults of subscription " + sub, Evidence: nonEmpty(f.Cloud.VaultErrors[strings.ToLower(sub)]), Fix: show}, true
	}
	if want != "" {
		return namedVaultFinding(vaults, want, pid, sub, show), true
	}
	if len(vaults) == 0 {
		return Finding{}, false
	}
	return anyVaultFinding(vaults, pid, sub), true
}

// namedVaultFinding decides on the vault --vault names.
func namedVaultFinding(vaults []Vault, want, pid, sub, show string) Finding {
	i := slices.IndexFunc(vaults, func(v Vault) bool { return strings.EqualFold(v.Name, want) })
	if i < 0 {
		return Finding{Status: Skip, Message: fmt.Sprintf("vault %s is not among the %d vaults the doctor may read in subscription %s (another subscription, or no Reader role on it)", want, len(vaults), sub), Fix: show}
	}
	v := vaults[i]
	d := decideVaultAccess(v, pid)
	switch {
	case d.canRead:
		return Finding{Status: Pass, Message: fmt.Sprintf("the identity (principal %s) may get the secrets of vault %s", pid, v.Name), Evidence: []string{d.detail}}
	case d.rbac:
		return Finding{Status: Skip, Message: fmt.Sprintf("vault %s uses Azure RBAC, so access policies do not apply and the doctor does not read its role assignments; this command lists the identity's roles on it", v.Name),
			Evidence: []string{d.detail}, Fix: fmt.Sprintf("az role assignment list --assignee %s --scope %s", pid, v.ID)}
	}
	return Finding{Status: Fail, Message: fmt.Sprintf("the identity (principal %s) may not get the secrets of vault %s; Key Vault answers its reads with 403 Forbidden (AccessDenied)", pid, v.Name),
		Evidence: []string{d.detail}, Fix: setPolicyFix(v.Name, pid)}
}

// anyVaultFinding passes when the identity may read some vault it sees,
// and otherwise warns: the doctor cannot know which vault the app reads.
func anyVaultFinding(vaults []Vault, pid, sub string) Finding {
	var readable, denied, rbac, evidence []string
	for _, v := range vaults {
		d := decideVaultAccess(v, pid)
		evidence = append(evidence, d.detail)
		switch {
		case d.canRead:
			readable = append(readable, v.Name)
		case d.rbac:
			rbac = append(rbac, v.Name)
		default:
			denied = append(denied, v.Name)
		}
	}
	switch {
	case len(readable) > 0:
		return Finding{Status: Pass, Message: fmt.Sprintf("the identity (principal %s) may get the secrets of vault%s %s", pid, plural(len(readable), "", "s"), strings.Join(readable, ", "))}
	case len(denied) == 0:
		return Finding{Status: Skip, Message: fmt.Sprintf("the vaults of subscription %s (%s) use Azure RBAC and the doctor does not read their role assignments; give --vault to name the app's", sub, strings.Join(rbac, ", ")),
			Evidence: evidence, Fix: fmt.Sprintf("az role assignment list --assignee %s --all", pid)}
	}
	return Finding{Status: Warn,
		Message:  fmt.Sprintf("the identity (principal %s) may get the secrets of none of the access-policy vaults in subscription %s (%s); if the app reads one, Key Vault answers 403 Forbidden (AccessDenied). Give --vault to name it", pid, sub, strings.Join(denied, ", ")),
		Evidence: evidence, Fix: setPolicyFix(denied[0], pid)}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
