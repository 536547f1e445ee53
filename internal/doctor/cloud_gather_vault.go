package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"

	podidv1 "github.com/podid/podid/api/v1"
)

func (r *armReader) IdentityPrincipal(ctx context.Context, id string) (string, error) {
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return "", fmt.Errorf("parse identity resource ID %s: %w", id, err)
	}
	client, err := armmsi.NewUserAssignedIdentitiesClient(rid.SubscriptionID, r.cred, &r.opts)
	if err != nil {
		return "", fmt.Errorf("create identities client: %w", err)
	}
	got, err := client.Get(ctx, rid.ResourceGroupName, rid.Name, nil)
	if err != nil {
		return "", fmt.Errorf("get identity %s: %w", rid.Name, err)
	}
	if got.Properties == nil || deref(got.Properties.PrincipalID) == "" {
		return "", fmt.Errorf("get identity %s: the answer has no principal ID", rid.Name)
	}
	return *got.Properties.PrincipalID, nil
}

func (r *armReader) Vaults(ctx context.Context, subscriptionID string) ([]Vault, error) {
	client, err := armkeyvault.NewVaultsClient(subscriptionID, r.cred, &r.opts)
	if err != nil {
		return nil, fmt.Errorf("create vaults client: %w", err)
	}
	var out []Vault
	pager := client.NewListBySubscriptionPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list key vaults of subscription %s: %w", subscriptionID, err)
		}
		for _, v := range page.Value {
			out = append(out, vaultFromARM(v))
		}
	}
	return out, nil
}

func vaultFromARM(v *armkeyvault.Vault) Vault {
	out := Vault{Name: deref(v.Name), ID: deref(v.ID)}
	if rid, err := arm.ParseResourceID(out.ID); err == nil {
		out.ResourceGroup = rid.ResourceGroupName
	}
	p := v.Properties
	if p == nil {
		return out
	}
	out.TenantID = deref(p.TenantID)
	out.RBAC = p.EnableRbacAuthorization != nil && *p.EnableRbacAuthorization
	for _, ap := range p.AccessPolicies {
		if ap == nil {
			continue
		}
		pol := VaultAccessPolicy{TenantID: deref(ap.TenantID), ObjectID: deref(ap.ObjectID)}
		if ap.Permissions != nil {
			for _, s := range ap.Permissions.Secrets {
				if s != nil {
					pol.Secrets = append(pol.Secrets, string(*s))
				}
			}
		}
		out.AccessPolicies = append(out.AccessPolicies, pol)
	}
	return out
}

// gatherVaults reads the principal ID of every user-assigned identity in
// scope, whatever its token mode (Key Vault sees the same principal either
// way), and lists the vaults of each such identity's subscription once.
func gatherVaults(ctx context.Context, r CloudReader, f *Facts, cf *CloudFacts) {
	cf.Principals, cf.PrincipalErrors = map[string]string{}, map[string]string{}
	cf.Vaults, cf.VaultErrors = map[string][]Vault{}, map[string]string{}
	for i := range f.Identities {
		id := &f.Identities[i]
		sub, ok := identitySubscription(id)
		if !ok || !f.IdentityInScope(id) {
			continue
		}
		k := strings.ToLower(id.Spec.ResourceID)
		if _, done := cf.Principals[k]; !done {
			if pid, err := r.IdentityPrincipal(ctx, id.Spec.ResourceID); err != nil {
				cf.PrincipalErrors[k] = err.Error()
			} else {
				cf.Principals[k] = pid
			}
		}
		sk := strings.ToLower(sub)
		_, listed := cf.Vaults[sk]
		if _, failed := cf.VaultErrors[sk]; listed || failed {
			continue
		}
		if vs, err := r.Vaults(ctx, sub); err != nil {
			cf.VaultErrors[sk] = err.Error()
		} else {
			cf.Vaults[sk] = vs
		}
	}
}

// identitySubscription returns the subscription of a user-assigned
// identity (type 0 with a well-formed resource ID); ok is false for any
// other identity, whose principal the vault check cannot know.
func identitySubscription(id *podidv1.AzureIdentity) (string, bool) {
	if id.Spec.Type != podidv1.UserAssignedMSI || id.Spec.ResourceID == "" {
		return "", false
	}
	rid, err := arm.ParseResourceID(id.Spec.ResourceID)
	if err != nil || rid.SubscriptionID == "" {
		return "", false
	}
	return rid.SubscriptionID, true
}
