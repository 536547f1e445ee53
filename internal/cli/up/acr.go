package up

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/plan"
)

// pushToACR copies the images podid up built from its loopback registry
// into the world's container registry, under repositories of the same
// names, as a team pushes its images to the ACR its cluster is attached to.
// The copy is the same index, digest for digest.
func (r *runner) pushToACR(ctx context.Context) error {
	a := r.p.ACR
	if a == nil || a.Registry == "" {
		return nil
	}
	for _, im := range r.p.Images {
		start := time.Now()
		src, err := name.ParseReference(image.Ref(r.images.Addr, im.Name, image.DefaultTag), name.Insecure)
		if err != nil {
			return fmt.Errorf("push %s into registry %s: %w", im.Name, a.Registry, err)
		}
		idx, err := remote.Index(src, remote.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("push %s into registry %s: read it from the loopback registry: %w", im.Name, a.Registry, err)
		}
		digest, err := r.cloud.PushIndex(a.Registry, im.Name, image.DefaultTag, idx)
		if err != nil {
			return fmt.Errorf("push %s into registry %s: %w", im.Name, a.Registry, err)
		}
		r.log.Info("image pushed to the registry", "image", image.Ref(a.LoginServer, im.Name, image.DefaultTag),
			"digest", digest.String(), "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	}
	return nil
}

// nodeACR is the credential provider and registry access of real node n,
// nil when the plan gives the nodes none.
func (r *runner) nodeACR(n plan.Node) *node.ACR {
	a := r.p.ACR
	if a == nil {
		return nil
	}
	return &node.ACR{
		Executable: r.rt.Executable, TenantID: a.TenantID, KubeletClientID: a.KubeletClientID,
		SubscriptionID: a.SubscriptionID, ResourceGroup: a.ResourceGroup, Location: a.Location,
		IMDSEndpoint: r.rt.IMDS[n.Instance], AuthorityHost: r.cloud.AuthorityURL(), CAFile: r.rt.CloudCA,
		FrontDoor: a.FrontDoor, FrontDoorNames: cloud.AzureNames(), LoginServers: a.LoginServers,
	}
}

// acrRecord is what the run record says about the registry: where it is,
// who pulls, and podid check-acr's view of the first real node.
func (r *runner) acrRecord() *plan.ACRRecord {
	a := r.p.ACR
	if a == nil || a.Registry == "" || len(r.p.RealNodes) == 0 {
		return nil
	}
	n := r.p.RealNodes[0]
	return &plan.ACRRecord{
		Registry: a.Registry, LoginServer: a.LoginServer, KubeletIdentity: a.KubeletIdentity, Images: a.Images,
		AzureConfig: n.Real.AzureJSONFile(), IMDSEndpoint: r.rt.IMDS[n.Instance], FrontDoor: a.FrontDoor,
	}
}
