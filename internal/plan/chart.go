package plan

import (
	"fmt"
	"net/url"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/image"
)

// Names of a chart install onto podid up's cluster (podid up
// --without-podid).
const (
	// ChartValuesFile is the values file podid up writes in the state folder.
	ChartValuesFile = "helm-values.yaml"
	// ChartRelease is the release name the values are written for: with
	// it, the chart's agent runs as kube-system/podid-nmi, the service
	// account the world's federated credential names.
	ChartRelease = "podid"
	// MicSecretName is the Secret podid up creates for mic's client secret
	// in node token mode.
	MicSecretName = "podid-mic-azure"
)

// PodidImage is podid's own image, served to the real node when the user
// installs podid onto it.
var PodidImage = Image{Name: image.NamePodid, Refs: []string{RegistryHost + "/" + image.NamePodid + ":" + image.DefaultTag}}

// Chart is an install of podid's chart onto podid up's cluster.
type Chart struct {
	// ValuesFile is where podid up writes the values of this cluster.
	ValuesFile string
	// Namespace and Release are what the values are written for.
	Namespace, Release string
}

// ChartPorts are the node ports of the chart's components. On podid up's
// real node they are ports of this machine (host network), so podid up
// picks free ones.
type ChartPorts struct {
	MicProbe, MicMetrics, AgentProbe, AgentMetrics int
}

// ChartMicSignsIn says whether the chart's mic signs in to the cloud (node
// token mode with a service principal): then its values name the Secret
// MicSecretName, which podid up creates.
func (p *Plan) ChartMicSignsIn() bool {
	return p.TokenMode == podidv1.TokenModeNode && p.Mic.AppID != ""
}

// ChartValues are the chart's values that make it run on podid up's real
// node: the images from podid's loopback registry, the API server and the
// embedded cloud on this machine's loopback (mic and the agent in the
// host network, as the pod network reaches only the node), the node's
// folders, and the workload-identity webhook off (the API server would
// call it through its Service's ClusterIP, which nothing routes here).
func (p *Plan) ChartValues(rt Runtime, apiServer string, ports ChartPorts) (map[string]any, error) {
	if p.Chart == nil || len(p.RealNodes) == 0 {
		return nil, fmt.Errorf("podid up runs podid's own components: no chart values to write")
	}
	u, err := url.Parse(apiServer)
	if err != nil || u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("API server URL %q has no host and port", apiServer)
	}
	n := p.RealNodes[0]
	real := map[string]any{"podid.dev/node-kind": "real"}
	mic := map[string]any{
		"replicas":       1, // one real node, and mic's ports are node ports
		"hostNetwork":    true,
		"probePort":      ports.MicProbe,
		"prometheusPort": ports.MicMetrics,
		"nodeSelector":   real,
	}
	if p.ChartMicSignsIn() {
		mic["cloud"] = map[string]any{
			"armEndpoint":   rt.CloudURL + "/",
			"authorityHost": rt.CloudURL + "/",
			"tenantID":      p.TenantID,
			"clientID":      p.Mic.AppID,
			"clientSecret":  map[string]any{"name": MicSecretName, "key": "clientSecret"},
			"resync":        NodeModeResync.String(),
		}
		if len(p.KubeletIdentities) > 0 {
			mic["immutableUserMSIs"] = p.KubeletIdentities
		}
	}
	return map[string]any{
		"image": map[string]any{
			"repository": RegistryHost + "/" + image.NamePodid,
			"tag":        image.DefaultTag,
			// podid up rebuilds the image from the source on each start.
			"pullPolicy": "Always",
		},
		"apiServer": map[string]any{"host": u.Hostname(), "port": u.Port()},
		"tokenMode": p.TokenMode,
		"mic":       mic,
		"nmi": map[string]any{
			"podCIDRs":       []string{n.PodCIDR.String()},
			"probePort":      ports.AgentProbe,
			"prometheusPort": ports.AgentMetrics,
			"kubeletDir":     n.Real.KubeletRoot(),
			// The node's folder, not the machine's /run: podid down
			// removes it.
			"lockDir":       n.Real.Dir,
			"tenantID":      p.TenantID,
			"authorityHost": rt.CloudURL + "/",
			"nodeSelector":  real,
			"extraArgs":     []string{"--node-imds-url=" + rt.IMDS[n.Instance]},
		},
		"workloadIdentity": map[string]any{"enabled": false},
	}, nil
}
