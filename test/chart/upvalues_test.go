package chart

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/plan"
)

// The values podid up --without-podid writes pass the chart's schema and
// give the agent the flags podid up's own agents run with.
func TestPodidUpValuesRender(t *testing.T) {
	w, err := world.Parse("built-in world", plan.DefaultWorld)
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.MakePlan(plan.Input{StateDir: t.TempDir(), Nodes: 2, RealNodes: 1, WithoutPodid: true, World: st, WorldSource: plan.BuiltinWorld, MicApp: "podid-mic"})
	if err != nil {
		t.Fatal(err)
	}
	rt := plan.Runtime{CloudURL: "https://127.0.0.1:4443", IMDS: map[string]string{p.RealNodes[0].Instance: "http://127.0.0.1:5555"}}
	v, err := p.ChartValues(rt, "https://127.0.0.1:6443", plan.ChartPorts{MicProbe: 20001, MicMetrics: 20002, AgentProbe: 20003, AgentMetrics: 20004})
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	r, err := render(t, p.Chart.Namespace, string(b), false)
	if err != nil {
		t.Fatalf("the chart refuses podid up's values: %v\n%s", err, b)
	}
	for _, want := range []string{
		"image: podid.local/podid:latest",
		"- --node-imds-url=http://127.0.0.1:5555",
		"- --pod-cidr=" + p.RealNodes[0].PodCIDR.String(),
		"- --authority-host=https://127.0.0.1:4443/",
		"- --iptables=auto",
		"- --remove-rules-on-uninstall",
		`value: "127.0.0.1"`,
		`value: "6443"`,
		"path: " + p.RealNodes[0].Real.Dir,
	} {
		if !strings.Contains(r.Manifest, want) {
			t.Errorf("the render lacks %q", want)
		}
	}
	if strings.Contains(r.Manifest, "MutatingWebhookConfiguration") {
		t.Error("the webhook is on: the API server here cannot reach a Service's ClusterIP")
	}
}
