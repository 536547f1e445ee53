package up

import (
	"fmt"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/node"
)

// kubeletServicePrincipal is the world application of
// --kubelet-service-principal with its newest secret, as az aks create
// --service-principal --client-secret gives it to the nodes; nil without
// the flag. An expired secret is taken as is: that is the cluster whose
// pulls fail with AADSTS7000222.
func (r *runner) kubeletServicePrincipal() (*node.ServicePrincipal, error) {
	if r.kubeletSP == "" {
		return nil, nil
	}
	app, ok := r.cloud.Application(r.kubeletSP)
	if !ok {
		return nil, fmt.Errorf("--kubelet-service-principal %s: the world has no such application; add it under applications with a secret, or name one by its name or app ID", r.kubeletSP)
	}
	return servicePrincipalOf(app)
}

// servicePrincipalOf picks app's newest secret: the one that expires last,
// a secret without end date counting as newest.
func servicePrincipalOf(app cloud.Application) (*node.ServicePrincipal, error) {
	if len(app.Secrets) == 0 {
		return nil, fmt.Errorf("--kubelet-service-principal %s: the application has no client secret for azure.json; give it one under secrets in the world file", app.Name)
	}
	best := app.Secrets[0]
	for _, s := range app.Secrets[1:] {
		if best.EndDate.IsZero() {
			break
		}
		if s.EndDate.IsZero() || s.EndDate.After(best.EndDate) {
			best = s
		}
	}
	return &node.ServicePrincipal{ClientID: app.AppID, Secret: best.Value}, nil
}

// withServicePrincipal makes a node's ACR settings a service-principal
// cluster's when sp is set.
func withServicePrincipal(a *node.ACR, sp *node.ServicePrincipal) *node.ACR {
	if a == nil || sp == nil {
		return a
	}
	a.ServicePrincipal = sp
	return a
}
