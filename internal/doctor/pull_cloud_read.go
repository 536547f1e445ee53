package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/cloudassign"
)

// API versions of the pull reads. The registry's is the one that carries
// roleAssignmentMode; the SDK's armcontainerregistry would be one more
// module for one list, so these calls go through ARM's pipeline by hand,
// as subscriptions does.
const (
	registriesAPIVersion    = "2025-11-01"
	authorizationAPIVersion = "2022-04-01"
	computeAPIVersion       = "2024-07-01"
)

// armList GETs path (and its nextLinks) and decodes each item of value
// into a T.
func armList[T any](ctx context.Context, r *armReader, path, apiVersion string) ([]T, error) {
	c, err := arm.NewClient("podid-doctor", "v1.0.0", r.cred, &r.opts)
	if err != nil {
		return nil, fmt.Errorf("create ARM client: %w", err)
	}
	var out []T
	next := runtime.JoinPaths(c.Endpoint(), path) + "?api-version=" + apiVersion
	for next != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := armGet(ctx, c, next, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		next = page.NextLink
	}
	return out, nil
}

// armGet GETs url through c's pipeline and decodes a 200 into out.
func armGet(ctx context.Context, c *arm.Client, url string, out any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, url)
	if err != nil {
		return err
	}
	resp, err := c.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	if err := runtime.UnmarshalAsJSON(resp, out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// registryJSON is the part of ARM's Registry the doctor reads.
type registryJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		LoginServer         string `json:"loginServer"`
		PublicNetworkAccess string `json:"publicNetworkAccess"`
		NetworkRuleSet      *struct {
			DefaultAction string `json:"defaultAction"`
			IPRules       []struct {
				Value string `json:"value"`
			} `json:"ipRules"`
		} `json:"networkRuleSet"`
		AnonymousPullEnabled bool   `json:"anonymousPullEnabled"`
		RoleAssignmentMode   string `json:"roleAssignmentMode"`
	} `json:"properties"`
}

func (j registryJSON) fact() RegistryFact {
	p := j.Properties
	out := RegistryFact{Name: j.Name, ID: j.ID, LoginServer: p.LoginServer, PublicNetworkAccess: p.PublicNetworkAccess,
		DefaultAction: "Allow", AnonymousPull: p.AnonymousPullEnabled,
		ABAC: strings.EqualFold(p.RoleAssignmentMode, "AbacRepositoryPermissions") || strings.EqualFold(p.RoleAssignmentMode, "rbac-abac")}
	if n := p.NetworkRuleSet; n != nil {
		if n.DefaultAction != "" {
			out.DefaultAction = n.DefaultAction
		}
		for _, ip := range n.IPRules {
			out.IPRules = append(out.IPRules, ip.Value)
		}
	}
	return out
}

// Registries lists the container registries of every subscription the
// reader may see, without their role assignments. What was listed before
// an error is returned with it.
func (r *armReader) Registries(ctx context.Context) ([]RegistryFact, error) {
	subs, err := r.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var out []RegistryFact
	for _, sub := range subs {
		regs, err := armList[registryJSON](ctx, r, "/subscriptions/"+sub+"/providers/Microsoft.ContainerRegistry/registries", registriesAPIVersion)
		if err != nil {
			return out, fmt.Errorf("list registries of subscription %s: %w", sub, err)
		}
		for _, j := range regs {
			out = append(out, j.fact())
		}
	}
	return out, nil
}

// RoleGrants lists the role assignments at scope or above it, each with
// its role's permissions (role definitions listed at scope, custom ones
// included).
func (r *armReader) RoleGrants(ctx context.Context, scope string) ([]RoleGrant, error) {
	type assignment struct {
		Properties struct {
			Scope            string `json:"scope"`
			RoleDefinitionID string `json:"roleDefinitionId"`
			PrincipalID      string `json:"principalId"`
			Condition        string `json:"condition"`
		} `json:"properties"`
	}
	type definition struct {
		Name       string `json:"name"`
		Properties struct {
			RoleName    string             `json:"roleName"`
			Permissions []authz.Permission `json:"permissions"`
		} `json:"properties"`
	}
	base := strings.TrimSuffix(scope, "/") + "/providers/Microsoft.Authorization/"
	as, err := armList[assignment](ctx, r, base+"roleAssignments", authorizationAPIVersion)
	if err != nil {
		return nil, fmt.Errorf("list role assignments at %s: %w", scope, err)
	}
	ds, err := armList[definition](ctx, r, base+"roleDefinitions", authorizationAPIVersion)
	if err != nil {
		return nil, fmt.Errorf("list role definitions at %s: %w", scope, err)
	}
	defs := map[string]definition{}
	for _, d := range ds {
		defs[strings.ToLower(d.Name)] = d
	}
	var out []RoleGrant
	for _, a := range as {
		p := a.Properties
		// ARM lists assignments below the scope too; they grant nothing
		// at it.
		if !authz.ScopeContains(p.Scope, scope) {
			continue
		}
		guid := strings.ToLower(authz.RoleDefinitionGUID(p.RoleDefinitionID))
		d := defs[guid]
		out = append(out, RoleGrant{PrincipalID: p.PrincipalID, Scope: p.Scope, RoleDefinitionID: guid, RoleName: d.Properties.RoleName,
			Condition: p.Condition, Permissions: d.Properties.Permissions})
	}
	return out, nil
}

// Machine reads the VM or scale set a node's providerID names, with the
// user-assigned identities on it.
func (r *armReader) Machine(ctx context.Context, providerID string) (MachineFact, error) {
	t, err := cloudassign.ParseProviderID(providerID)
	if err != nil {
		return MachineFact{}, err
	}
	c, err := arm.NewClient("podid-doctor", "v1.0.0", r.cred, &r.opts)
	if err != nil {
		return MachineFact{}, fmt.Errorf("create ARM client: %w", err)
	}
	var m struct {
		Identity *struct {
			UserAssignedIdentities map[string]json.RawMessage `json:"userAssignedIdentities"`
		} `json:"identity"`
	}
	if err := armGet(ctx, c, runtime.JoinPaths(c.Endpoint(), t.ID)+"?api-version="+computeAPIVersion, &m); err != nil {
		return MachineFact{}, fmt.Errorf("get %s: %w", t.ID, err)
	}
	out := MachineFact{ID: t.ID}
	if m.Identity == nil {
		return out, nil
	}
	for id, raw := range m.Identity.UserAssignedIdentities {
		var v struct {
			PrincipalID string `json:"principalId"`
			ClientID    string `json:"clientId"`
		}
		_ = json.Unmarshal(raw, &v) // a null or empty value leaves the IDs unknown
		out.Identities = append(out.Identities, MachineIdentity{ResourceID: id, ClientID: v.ClientID, PrincipalID: v.PrincipalID})
	}
	sort.Slice(out.Identities, func(i, j int) bool { return out.Identities[i].ResourceID < out.Identities[j].ResourceID })
	return out, nil
}
