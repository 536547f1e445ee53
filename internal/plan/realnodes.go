package plan

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/image"
)

// FakeNodeTaint is put on the fake nodes when real nodes run: workloads
// applied as users write them (seed 004's Deployment, seed 002's Pod) then
// land on a node that runs their containers. Pods that name a fake node
// (the demo's) or tolerate the taint still go there.
var FakeNodeTaint = corev1.Taint{Key: "podid.dev/fake-node", Value: "true", Effect: corev1.TaintEffectNoSchedule}

// RegistryHost is the registry name of podid's own images on real nodes;
// each node's containerd pulls it, and Docker Hub's names of the images
// that stand in for the seeds' (busybox, cmendibl3/az-keyvault-reader),
// from podid's loopback registry, so the seeds' manifests run unchanged.
const RegistryHost = image.DefaultRegistry

// DockerHub is the registry host that short image names (busybox) mean.
const DockerHub = image.DockerHub

// Image is one image the real nodes pull.
type Image struct {
	// Name is the image tool's catalog name.
	Name string
	// Refs are the names pods use for it.
	Refs []string
}

// Images are the images podid builds and serves to real nodes: the pause
// image of every pod sandbox and seed 004's two containers under the names
// the seed gives them. (podid's own image, `podid images build podid`, is
// for installing podid on a cluster; the real nodes' agents run as host
// processes.)
var Images = []Image{
	{Name: "pause", Refs: []string{RegistryHost + "/pause:latest"}},
	{Name: "busybox", Refs: []string{RegistryHost + "/busybox:latest", "busybox (" + DockerHub + "/library/busybox:latest)"}},
	{Name: "kvreader", Refs: []string{RegistryHost + "/kvreader:latest", "cmendibl3/az-keyvault-reader:0.2"}},
}

// SandboxImage is the pause image reference.
func SandboxImage() string { return image.SandboxImage() }
