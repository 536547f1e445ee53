package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"k8s.io/client-go/rest"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/kubeclient"
)

// CloudReader is what the doctor asks the cloud. It only reads.
type CloudReader interface {
	// FederatedCredentials lists the federated identity credentials of
	// the user-assigned identity with resource ID id.
	FederatedCredentials(ctx context.Context, id string) ([]FederatedCredential, error)
	// IdentityPrincipal returns the principal (object) ID of the
	// user-assigned identity with resource ID id: the ID access policies
	// and role assignments name.
	IdentityPrincipal(ctx context.Context, id string) (string, error)
	// Vaults lists the Key Vaults of a subscription that the reader may
	// see, with their access policies.
	Vaults(ctx context.Context, subscriptionID string) ([]Vault, error)
	// FindIdentities returns the resource IDs of the user-assigned
	// identities with the wanted (lower-case) client IDs that the reader
	// may see, by lower-case client ID: what a ServiceAccount's client-id
	// annotation names.
	FindIdentities(ctx context.Context, wanted map[string]bool) (map[string]string, error)
	// Registries lists the container registries of the subscriptions
	// the reader may see, without their role assignments.
	Registries(ctx context.Context) ([]RegistryFact, error)
	// RoleGrants lists the role assignments at scope or above it, with
	// what each role permits.
	RoleGrants(ctx context.Context, scope string) ([]RoleGrant, error)
	// Machine reads the VM or scale set a node's providerID names.
	Machine(ctx context.Context, providerID string) (MachineFact, error)
}

// armReader reads through Resource Manager with the same sign-in mic
// uses (cloudassign.CloudOptions.Credential).
type armReader struct {
	cred azcore.TokenCredential
	opts arm.ClientOptions
}

// NewCloudReader returns a CloudReader on ARM.
func NewCloudReader(cred azcore.TokenCredential, opts arm.ClientOptions) CloudReader {
	return &armReader{cred: cred, opts: opts}
}

func (r *armReader) FederatedCredentials(ctx context.Context, id string) ([]FederatedCredential, error) {
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return nil, fmt.Errorf("parse identity resource ID %s: %w", id, err)
	}
	client, err := armmsi.NewFederatedIdentityCredentialsClient(rid.SubscriptionID, r.cred, &r.opts)
	if err != nil {
		return nil, fmt.Errorf("create federated credentials client: %w", err)
	}
	var out []FederatedCredential
	pager := client.NewListPager(rid.ResourceGroupName, rid.Name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list federated credentials of %s: %w", rid.Name, err)
		}
		for _, c := range page.Value {
			fc := FederatedCredential{Name: deref(c.Name)}
			if p := c.Properties; p != nil {
				fc.Issuer, fc.Subject = deref(p.Issuer), deref(p.Subject)
				for _, a := range p.Audiences {
					fc.Audiences = append(fc.Audiences, deref(a))
				}
			}
			out = append(out, fc)
		}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// GatherCloud asks the cloud about the identities in scope: the federated
// credentials of those federated token mode serves, the principal IDs of
// every user-assigned identity with the vaults of its subscription, the
// identities (with their federated credentials) that workload
// identity's ServiceAccounts name, and the registries pods pull from with
// the machines behind their nodes.
// It fills f.Cloud; failures are recorded per identity or subscription.
func GatherCloud(ctx context.Context, r CloudReader, f *Facts) {
	cf := &CloudFacts{FederatedCredentials: map[string][]FederatedCredential{}, Errors: map[string]string{}}
	gatherVaults(ctx, r, f, cf)
	gatherWorkloadIdentities(ctx, r, f, cf)
	gatherPulls(ctx, r, f, cf)
	for i := range f.Identities {
		id := &f.Identities[i]
		if !federated(f, id) || !f.IdentityInScope(id) {
			continue
		}
		k := strings.ToLower(id.Spec.ResourceID)
		if _, done := cf.FederatedCredentials[k]; done {
			continue
		}
		fcs, err := r.FederatedCredentials(ctx, id.Spec.ResourceID)
		if err != nil {
			cf.Errors[k] = err.Error()
			continue
		}
		cf.FederatedCredentials[k] = fcs
	}
	f.Cloud = cf
}

// federated reports whether the agent gets id's tokens by exchanging its
// service-account token: a user-assigned identity in federated mode.
func federated(f *Facts, id *podidv1.AzureIdentity) bool {
	return id.Spec.Type == podidv1.UserAssignedMSI && id.Spec.ResourceID != "" &&
		id.TokenMode(f.Settings.TokenMode) == podidv1.TokenModeFederated
}

// GatherIssuer reads the cluster's service-account issuer from the API
// server's discovery document, then fetches the issuer's own discovery
// document as Azure AD will, recording whether it answered.
func GatherIssuer(ctx context.Context, cfg *rest.Config, f *Facts) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		f.Federation.IssuerErr = err.Error()
		return
	}
	issuer, err := kubeclient.Issuer(ctx, cfg)
	if err != nil {
		f.Federation.IssuerErr = err.Error()
		return
	}
	f.Federation.Issuer = issuer
	// Azure AD fetches the issuer's document itself; the API server's
	// CA is trusted here so that a local cluster's issuer (podid up's)
	// counts as reachable, as the embedded cloud trusts it too.
	if _, err := kubeclient.DiscoveryIssuer(ctx, client, issuer); err != nil {
		f.Federation.DiscoveryErr = err.Error()
	}
}

// Federation is what federated token mode depends on besides the cloud:
// the cluster's issuer, whether its discovery document answers, and the
// subject and audience the agent's tokens carry.
type Federation struct {
	// Issuer is the cluster's service-account issuer; IssuerErr why it
	// could not be read.
	Issuer, IssuerErr string
	// DiscoveryErr is why the issuer's discovery document did not answer.
	DiscoveryErr string
}
