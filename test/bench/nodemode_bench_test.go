package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/proc"
	"github.com/podid/podid/internal/testenv"
)

const (
	nmTenant  = "2e319086-9a26-46a3-865f-615bed576786"
	nmSub     = "7e242177-ef0b-431f-8c76-e40907843aa7"
	nmNodeRG  = "MC_bench"
	nmIDRG    = "rg-identities"
	nmAppID   = "b9276f33-e80c-4f09-9cdf-24c28c0feea4"
	nmSecret  = "bench-secret"
	scaleSets = 10
	resync    = 5 * time.Second
)

// BenchmarkAssignNodeMode runs BenchmarkAssign's workload in node mode
// against the embedded cloud: 500 nodes are the instances of 10 scale sets,
// the identities of each namespace's pods live on one scale set, and mic
// must put each identity on its scale set. It reports ARM PATCHes per scale
// set per burst (one GET starts every burst) and PATCHes at steady state.
func BenchmarkAssignNodeMode(b *testing.B) {
	scale(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	perSet := benchNodes / scaleSets
	w, err := world.Parse("bench-world.yaml", []byte(nodeModeWorld(perSet)))
	if err != nil {
		b.Fatal(err)
	}
	seed, err := w.State()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	azure, err := cloud.Start(ctx, cloud.Options{StateDir: filepath.Join(dir, "cloud"), Seed: seed})
	if err != nil {
		b.Fatal(err)
	}
	defer azure.Close()
	env := testenv.StartT(b, testenv.Options{Nodes: benchNodes, ProviderID: func(i int) string {
		return fmt.Sprintf("azure:///subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%d", nmSub, nmNodeRG, setName(i/perSet), i%perSet)
	}})
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte(nmSecret), 0o600); err != nil {
		b.Fatal(err)
	}
	mic := buildMIC(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("n%d-", i)
		setupIdentities(ctx, b, env, prefix, func(g int) string {
			return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-%04d", nmSub, nmIDRG, g)
		})
		runPodsFor(ctx, b, env, prefix, func(pod, g int) string {
			set := g % scaleSets
			return env.Nodes[set*perSet+pod%perSet].Name
		})
		obs := observe(ctx, b, env)
		metricsPort := freePort(b)
		p, err := proc.Start(proc.Spec{
			Name: "mic", Path: mic,
			Args: []string{"--kubeconfig=" + env.ControlPlane.Kubeconfig, "--leader-elect=false",
				"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(metricsPort), "--health-probe-bind-address=0",
				"--workers=" + strconv.Itoa(workers), "--kube-api-qps=1000", "--kube-api-burst=2000",
				"--token-mode=node", "--arm-endpoint=" + azure.ARMURL(), "--authority-host=" + azure.AuthorityURL(),
				"--azure-tenant-id=" + nmTenant, "--azure-client-id=" + nmAppID, "--azure-client-secret-file=" + secret,
				"--cloud-ca-file=" + azure.CAPath(), "--cloud-resync=" + resync.String()},
			LogFile: filepath.Join(env.Dir, "mic-nodemode.log"),
			Env:     []string{"GOMEMLIMIT=" + memLimit},
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		waitAllAssigned(ctx, b, obs, prefix+"ns-")
		took := time.Since(start)
		patches := map[string]int{}
		total := 0
		for s := 0; s < scaleSets; s++ {
			patches[setName(s)] = azure.PatchCount(setName(s))
			total += patches[setName(s)]
		}
		gets, updates := armCalls(b, metricsPort)
		time.Sleep(2 * resync)
		steady := 0
		for s := 0; s < scaleSets; s++ {
			steady += azure.PatchCount(setName(s)) - patches[setName(s)]
		}
		// At steady state each scale set is read once per resync (drift
		// repair), however often its nodes send heartbeats.
		gets2, _ := armCalls(b, metricsPort)
		steadyGets := gets2 - gets
		rss := peakRSS(b, p.PID())
		p.Stop(5 * time.Second)
		b.ReportMetric(took.Seconds(), "s-to-all-assigned")
		b.ReportMetric(float64(total)/scaleSets, "PATCH/scale-set")
		b.ReportMetric(updates/gets, "PATCH/burst")
		b.ReportMetric(float64(steady), "PATCH-steady-state")
		b.ReportMetric(steadyGets/scaleSets/(2*resync).Seconds()*resync.Seconds(), "GET/scale-set/resync-steady")
		b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
		b.Logf("node mode, %d pods on %d nodes in %d scale sets, %d identities: all Assigned in %s; %d accepted PATCHes (%v), %.0f GETs (one per burst) and %.0f updates, so %.2f PATCH per burst; %d PATCHes and %.0f GETs in %s of steady state (resync %s); mic peak RSS %d MiB",
			benchPods, benchNodes, scaleSets, benchIdentities, took.Round(time.Millisecond), total, patches, gets, updates, updates/gets, steady, steadyGets, 2*resync, resync, rss>>20)
	}
}

func setName(i int) string { return fmt.Sprintf("pool%02d-vmss", i) }

// nodeModeWorld has the scale sets, the identities, and mic's service
// principal with Virtual Machine Contributor on the node group and Managed
// Identity Operator on the identities' group.
func nodeModeWorld(perSet int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "tenants:\n  - id: %s\n    name: bench\n    subscriptions:\n      - id: %s\n        name: aks\n        resourceGroups:\n          - name: %s\n            scaleSets:\n", nmTenant, nmSub, nmNodeRG)
	for i := 0; i < scaleSets; i++ {
		fmt.Fprintf(&s, "              - {name: %s, capacity: %d}\n", setName(i), perSet)
	}
	fmt.Fprintf(&s, "          - name: %s\n            identities:\n", nmIDRG)
	for g := 0; g < benchIdentities; g++ {
		fmt.Fprintf(&s, "              - name: id-%04d\n", g)
	}
	fmt.Fprintf(&s, `    applications:
      - {name: mic, appId: %s, secrets: [{value: %s, endDate: 2099-01-01T00:00:00Z}]}
    roleAssignments:
      - {principal: mic, role: Virtual Machine Contributor, scope: resourceGroup/%s}
      - {principal: mic, role: Managed Identity Operator, scope: resourceGroup/%s}
`, nmAppID, nmSecret, nmNodeRG, nmIDRG)
	return s.String()
}

// armCalls reads mic's ARM call counters from its metrics endpoint.
func armCalls(b *testing.B, port int) (gets, updates float64) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	samples, err := testenv.Samples(resp.Body, "podid_cloud_requests_total")
	if err != nil {
		b.Fatal(err)
	}
	for _, x := range samples {
		switch {
		case x.Labels["operation"] == "get":
			gets += x.Value
		case x.Labels["operation"] == "update" && x.Labels["code"] == "200":
			updates += x.Value
		}
	}
	if gets == 0 {
		b.Fatal("mic reported no ARM GET")
	}
	return gets, updates
}
