package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// subscriptionsAPIVersion is the version of GET /subscriptions the doctor
// asks for (armsubscriptions' own).
const subscriptionsAPIVersion = "2022-12-01"

// FindIdentities looks through every resource group of every subscription
// the reader may see for user-assigned identities with the client IDs
// wanted (lower-case), and returns their resource IDs by lower-case client
// ID. It stops once all are found. The error says what could not be
// listed; what was found before is returned with it.
func (r *armReader) FindIdentities(ctx context.Context, wanted map[string]bool) (map[string]string, error) {
	found := map[string]string{}
	subs, err := r.subscriptions(ctx)
	if err != nil {
		return found, err
	}
	var errs []error
	for _, sub := range subs {
		groups, err := armresources.NewResourceGroupsClient(sub, r.cred, &r.opts)
		if err != nil {
			return found, fmt.Errorf("create resource groups client: %w", err)
		}
		ids, err := armmsi.NewUserAssignedIdentitiesClient(sub, r.cred, &r.opts)
		if err != nil {
			return found, fmt.Errorf("create identities client: %w", err)
		}
		for pager := groups.NewListPager(nil); pager.More() && len(found) < len(wanted); {
			page, err := pager.NextPage(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("list resource groups of subscription %s: %w", sub, err))
				break
			}
			for _, g := range page.Value {
				if err := findInGroup(ctx, ids, deref(g.Name), wanted, found); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return found, errors.Join(errs...)
}

// findInGroup adds the wanted identities of resource group rg to found.
func findInGroup(ctx context.Context, ids *armmsi.UserAssignedIdentitiesClient, rg string, wanted map[string]bool, found map[string]string) error {
	for pager := ids.NewListByResourceGroupPager(rg, nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list identities of resource group %s: %w", rg, err)
		}
		for _, id := range page.Value {
			if id.Properties == nil || id.Properties.ClientID == nil {
				continue
			}
			if c := strings.ToLower(*id.Properties.ClientID); wanted[c] {
				found[c] = deref(id.ID)
			}
		}
	}
	return nil
}

// subscriptions lists the IDs of the subscriptions the reader may see.
// The SDK's armsubscriptions is one more module for one call, so the
// call goes through ARM's pipeline by hand.
func (r *armReader) subscriptions(ctx context.Context) ([]string, error) {
	c, err := arm.NewClient("podid-doctor", "v1.0.0", r.cred, &r.opts)
	if err != nil {
		return nil, fmt.Errorf("create ARM client: %w", err)
	}
	var out []string
	next := runtime.JoinPaths(c.Endpoint(), "/subscriptions") + "?api-version=" + subscriptionsAPIVersion
	for next != "" {
		req, err := runtime.NewRequest(ctx, http.MethodGet, next)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		resp, err := c.Pipeline().Do(req)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return nil, fmt.Errorf("list subscriptions: %w", runtime.NewResponseError(resp))
		}
		var page struct {
			Value []struct {
				SubscriptionID string `json:"subscriptionId"`
			} `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return nil, fmt.Errorf("list subscriptions: decode: %w", err)
		}
		for _, s := range page.Value {
			out = append(out, s.SubscriptionID)
		}
		next = page.NextLink
	}
	return out, nil
}

// gatherWorkloadIdentities finds the identities the ServiceAccounts of
// labelled pods in scope name, and lists their federated credentials. An
// AzureIdentity with the same client ID gives the resource ID without a
// search.
func gatherWorkloadIdentities(ctx context.Context, r CloudReader, f *Facts, cf *CloudFacts) {
	cf.WorkloadIdentities, cf.WorkloadIdentityErrors = map[string]WIIdentity{}, map[string]string{}
	resourceIDs := map[string]string{}
	wanted := map[string]bool{}
	for _, a := range wiAccounts(f) {
		cid := strings.ToLower(a.clientID)
		for _, id := range f.Identities {
			if strings.EqualFold(id.Spec.ClientID, cid) && id.Spec.ResourceID != "" {
				resourceIDs[cid] = id.Spec.ResourceID
			}
		}
		if resourceIDs[cid] == "" {
			wanted[cid] = true
		}
	}
	if len(wanted) > 0 {
		found, err := r.FindIdentities(ctx, wanted)
		for cid := range wanted {
			switch {
			case found[cid] != "":
				resourceIDs[cid] = found[cid]
			case err != nil:
				cf.WorkloadIdentityErrors[cid] = err.Error()
			}
		}
	}
	for cid, rid := range resourceIDs {
		fcs, err := r.FederatedCredentials(ctx, rid)
		if err != nil {
			cf.WorkloadIdentityErrors[cid] = err.Error()
			continue
		}
		cf.WorkloadIdentities[cid] = WIIdentity{ResourceID: rid, FederatedCredentials: fcs}
	}
}
