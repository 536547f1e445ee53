package plan

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/acr"
	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/image"
)

// ACR is how the real nodes pull from the world's container registry as an
// AKS node pulls from an attached one: each kubelet runs podid
// acr-credential-provider with an azure.json naming the kubelet identity,
// which gets its token from the node's IMDS, and containerd reaches
// <registry>.azurecr.io through the cloud's front door. podid up pushes the
// images it builds into the registry, so pods can name them there.
type ACR struct {
	// KubeletIdentity and KubeletClientID name the scale set's identity
	// the kubelet pulls as (azure.json's userAssignedIdentityID).
	KubeletIdentity, KubeletClientID string
	// TenantID, SubscriptionID, ResourceGroup and Location place the node
	// resource group in azure.json.
	TenantID, SubscriptionID, ResourceGroup, Location string
	// FrontDoor is where containerd and the provider send connections to
	// Azure's host names: the cloud serves them on the first real node's
	// address, port 443 (the "azure names" step).
	FrontDoor string
	// LoginServers are every registry of the world, which the nodes'
	// containerd trusts the cloud's CA for.
	LoginServers []string
	// Registry is the registry podid up pushes its images into, the
	// world's first; empty when the world has none.
	Registry, LoginServer string
	// Attached says whether the kubelet identity may pull from Registry
	// (AcrPull or a wider role at or above it), as after --attach-acr.
	Attached bool
	// Images are the references podid up pushes, one per image it builds.
	Images []string
}

// makeACR decides the real nodes' registry settings; nil when the scale
// set has no user-assigned identity for the kubelet to pull as.
func makeACR(st cloud.State, vmss *cloud.Machine, firstNode netip.Addr, images []Image) *ACR {
	if len(vmss.UserAssigned) == 0 {
		return nil
	}
	kubelet := findIdentity(st, vmss.UserAssigned[0])
	if kubelet == nil {
		return nil
	}
	a := &ACR{
		KubeletIdentity: kubelet.Name, KubeletClientID: kubelet.ClientID,
		TenantID: vmss.TenantID, SubscriptionID: vmss.SubscriptionID, ResourceGroup: vmss.ResourceGroup, Location: vmss.Location,
		FrontDoor: netip.AddrPortFrom(firstNode, 443).String(),
	}
	for _, r := range st.Registries {
		a.LoginServers = append(a.LoginServers, r.LoginServer())
	}
	if len(st.Registries) == 0 {
		return a
	}
	reg := st.Registries[0]
	a.Registry, a.LoginServer = reg.Name, reg.LoginServer()
	a.Attached = authz.Authorize(authz.Request{PrincipalID: kubelet.PrincipalID, Action: acr.LegacyPullAction, Scope: reg.ID},
		st.RoleAssignments, authz.Builtins()).Allowed
	for _, im := range images {
		a.Images = append(a.Images, image.Ref(a.LoginServer, im.Name, image.DefaultTag))
	}
	return a
}

// ACRRecord is what a user of a run needs to pull from the registry on a
// real node, and to walk that pull from this machine as the node does.
type ACRRecord struct {
	Registry    string `json:"registry"`
	LoginServer string `json:"loginServer"`
	// KubeletIdentity is the identity the kubelet pulls as: the
	// --principal of podid cloud acr attach|detach.
	KubeletIdentity string `json:"kubeletIdentity"`
	// Images are the references podid up pushed.
	Images []string `json:"images,omitempty"`
	// AzureConfig is the first real node's azure.json, IMDSEndpoint its
	// instance's IMDS and FrontDoor where Azure's names are served: podid
	// check-acr's --azure-config, --imds-endpoint and --front-door.
	AzureConfig  string `json:"azureConfig"`
	IMDSEndpoint string `json:"imdsEndpoint"`
	FrontDoor    string `json:"frontDoor"`
}

// ImageRef is the reference of catalog image name in the registry, or ""
// when podid up pushed no such image.
func (a *ACRRecord) ImageRef(name string) string {
	for _, ref := range a.Images {
		if strings.HasPrefix(ref, a.LoginServer+"/"+name+":") {
			return ref
		}
	}
	return ""
}

// renderACRNext prints the commands that pull from the registry, check the
// pull as the kubelet makes it, and break it as seed 000 saw it broken.
func renderACRNext(b *strings.Builder, r *Record) {
	a := r.ACR
	if a == nil {
		return
	}
	ref := a.ImageRef(image.NameBusybox)
	if ref == "" {
		ref = a.LoginServer + "/<repository>:<tag>"
	}
	fmt.Fprintf(b, "  # pods on the real nodes pull from %s as the kubelet identity (image: %s); check that pull as the kubelet makes it:\n", a.Registry, ref)
	fmt.Fprintf(b, "  podid check-acr --image %s --azure-config %s --imds-endpoint %s --ca-bundle %s --front-door %s\n", ref, a.AzureConfig, a.IMDSEndpoint, r.CloudCA, a.FrontDoor)
	fmt.Fprintf(b, "  podid cloud acr detach --state-dir %s --registry %s --principal %s   # seed 000's ErrImagePull (401); attach undoes it\n", r.StateDir, a.Registry, a.KubeletIdentity)
}
