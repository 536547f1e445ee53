package agent

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/testenv"
)

// TestFederatedModeRealClientsGetTheBoundIdentitysToken: a managed
// identity with one federated credential for the agents' service account,
// bound to a kwok pod; the pod's real azidentity clients get tokens the
// tenant signed, for the resource they asked, of that identity, and no
// VMSS is touched.
func TestFederatedModeRealClientsGetTheBoundIdentitysToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	id := managedIdentity(t, fedIdentity)
	create(ctx, t, azureIdentity(ns, "fed", id, ""), binding(ns, "fed-binding", "fed", "fed-app"))
	pod := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "app", Node: s.env.Nodes[0].Name,
		Labels: map[string]string{podidv1.SelectorLabel: "fed-app"}})

	everyClientGetsTheIdentity(ctx, t, podCaller(t, pod), identityPrincipal(id))
	if got := s.cloud.MachineIdentities(scaleSetID); slices.ContainsFunc(got, func(x string) bool { return strings.EqualFold(x, id.ID) }) {
		t.Errorf("federated identity was put on the scale set: %v", got)
	}
}

// principal is who a token must be for.
type principal struct {
	name, clientID, objectID string
	// resourceID is a managed identity's ARM ID (its tokens' xms_mirid);
	// empty for a service principal.
	resourceID string
}

func identityPrincipal(id cloud.Identity) principal {
	return principal{name: id.Name, clientID: id.ClientID, objectID: id.PrincipalID, resourceID: id.ID}
}

// everyClientGetsTheIdentity has each real client of the table get a token
// of a fresh resource as c, and checks it is p's.
func everyClientGetsTheIdentity(ctx context.Context, t *testing.T, c caller, p principal) {
	t.Helper()
	cases := map[string]struct {
		// cred builds the client under test, speaking as c.
		cred func(t *testing.T) azcore.TokenCredential
		// managedOnly cases need a managed identity's resource ID.
		managedOnly bool
	}{
		"ManagedIdentityCredential without an ID gets the pod's only identity": {
			cred: func(t *testing.T) azcore.TokenCredential { return c.managedIdentity(t, nil, false) },
		},
		"ManagedIdentityCredential naming the client ID gets it": {
			cred: func(t *testing.T) azcore.TokenCredential {
				return c.managedIdentity(t, azidentity.ClientID(p.clientID), false)
			},
		},
		"ManagedIdentityCredential naming the resource ID gets it": {
			cred: func(t *testing.T) azcore.TokenCredential {
				return c.managedIdentity(t, azidentity.ResourceID(p.resourceID), false)
			},
			managedOnly: true,
		},
		"DefaultAzureCredential probes the agent and gets the identity": {
			cred: func(t *testing.T) azcore.TokenCredential { return c.defaultCredential(t) },
		},
	}
	for name, tc := range cases {
		if tc.managedOnly && p.resourceID == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			res := freshResource(p.name)
			tok, err := token(ctx, tc.cred(t), res)
			if err != nil {
				t.Fatalf("get token: %v", err)
			}
			checkToken(t, tok.Token, res, p)
		})
	}
}
