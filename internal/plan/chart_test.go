package plan

import (
	"strings"
	"testing"

	podidv1 "github.com/podid/podid/api/v1"
)

func TestWithoutPodidNeedsOneRealNode(t *testing.T) {
	for _, n := range []int{0, 2} {
		in := input(t)
		in.RealNodes, in.WithoutPodid = n, true
		if _, err := MakePlan(in); err == nil || !strings.Contains(err.Error(), "--real-nodes 1") {
			t.Errorf("--without-podid with %d real nodes: %v, want an error naming --real-nodes 1", n, err)
		}
	}
}

// The values put the chart's pods where podid up's cluster can run them:
// on the real node, in the host network, with the API server, the cloud
// and the node's IMDS on this machine's loopback and podid's image from
// the nodes' registry.
func TestChartValues(t *testing.T) {
	in := input(t)
	in.RealNodes, in.WithoutPodid, in.TokenMode = 1, true, podidv1.TokenModeNode
	p, err := MakePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Chart == nil || p.Chart.ValuesFile != "/home/user/.podid/helm-values.yaml" || p.Chart.Release+"-nmi" != AgentServiceAccount {
		t.Fatalf("chart %+v: the release must give the agent the service account the federated credential names", p.Chart)
	}
	if got := p.Images[len(p.Images)-1]; got.Name != "podid" {
		t.Errorf("podid's own image is not served to the nodes: %+v", p.Images)
	}
	rt := Runtime{CloudURL: "https://127.0.0.1:4443", IMDS: map[string]string{p.RealNodes[0].Instance: "http://127.0.0.1:5555"}}
	v, err := p.ChartValues(rt, "https://127.0.0.1:6443", ChartPorts{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	api := v["apiServer"].(map[string]any)
	if api["host"] != "127.0.0.1" || api["port"] != "6443" {
		t.Errorf("apiServer %v", api)
	}
	mic, nmi := v["mic"].(map[string]any), v["nmi"].(map[string]any)
	if mic["hostNetwork"] != true || mic["replicas"] != 1 || mic["probePort"] != 1 || nmi["probePort"] != 3 {
		t.Errorf("mic %v nmi %v", mic, nmi)
	}
	cloud := mic["cloud"].(map[string]any)
	if cloud["armEndpoint"] != "https://127.0.0.1:4443/" || cloud["clientID"] != p.Mic.AppID || cloud["clientSecret"].(map[string]any)["name"] != MicSecretName {
		t.Errorf("node mode: mic's cloud %v", cloud)
	}
	if args := nmi["extraArgs"].([]string); len(args) != 1 || args[0] != "--node-imds-url=http://127.0.0.1:5555" {
		t.Errorf("the agent must pass metadata calls to its node's IMDS: %v", args)
	}
	if cidrs := nmi["podCIDRs"].([]string); len(cidrs) != 1 || cidrs[0] != p.RealNodes[0].PodCIDR.String() {
		t.Errorf("podCIDRs %v", cidrs)
	}
	if nmi["lockDir"] != p.RealNodes[0].Real.Dir || v["workloadIdentity"].(map[string]any)["enabled"] != false {
		t.Errorf("lock folder %v, webhook %v", nmi["lockDir"], v["workloadIdentity"])
	}
	if _, err := p.ChartValues(rt, "not a url", ChartPorts{}); err == nil {
		t.Error("an API server URL without host and port must be refused")
	}
}
