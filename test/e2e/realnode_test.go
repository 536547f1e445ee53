package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/testenv"
)

// kubectl builds (once, cached) or finds kubectl and returns a function
// running it against kubeconfig.
func kubectl(t *testing.T, kubeconfig string) func(args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("bash", "../../hack/k8s-bin.sh", "kubectl").Output()
	if err != nil {
		t.Fatalf("build kubectl: %v", err)
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), "kubectl")
	return func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
}

// The demonstration, as a user does it: podid up with a real node,
// the seeds' manifests applied with kubectl apply as published (seed 002's
// image name swapped for a local one), seed 004's container reading the
// secret with a token from 169.254.169.254 through the node's real
// iptables, an unlabelled pod on the same node getting none, and podid
// down leaving the machine as it was.
func TestRealNodeRunsTheSeeds(t *testing.T) {
	testenv.RequireRealNodes(t)
	before := testenv.Snapshot(t)
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	up := must(t, "up", "--detach", "--state-dir", dir, "--real-nodes", "1")
	rec := readRecord(t, dir)
	t.Logf("podid up --real-nodes 1 --detach took %s (ready after %.1fs)", up.took.Round(time.Millisecond), rec.StartSeconds)
	k := kubectl(t, rec.Kubeconfig)

	nodes, err := k("get", "nodes", "-o", "wide")
	if err != nil || !strings.Contains(nodes, realNode) || !strings.Contains(nodes, "containerd://") || !strings.Contains(nodes, "kwok") {
		t.Fatalf("kubectl get nodes -o wide shows no real node beside the kwok ones (%v):\n%s", err, nodes)
	}
	// The real node registered with the agent-not-ready taint, so nothing
	// ran there before its agent; the agent removed it once it served.
	agentLog, _ := os.ReadFile(filepath.Join(dir, "run", "nmi-"+realNode+".log"))
	if !strings.Contains(string(agentLog), "removed the node's taint") || !strings.Contains(string(agentLog), v1.AgentNotReadyTaint) {
		t.Errorf("the real node's agent did not log removing the %s taint:\n%s", v1.AgentNotReadyTaint, agentLog)
	}
	if taints, err := k("get", "node", realNode, "-o", "jsonpath={.spec.taints}"); err != nil || strings.Contains(taints, v1.AgentNotReadyTaint) {
		t.Errorf("the real node still has the %s taint (%v): %s", v1.AgentNotReadyTaint, err, taints)
	}

	seed002, err := os.ReadFile("../integration/testdata/seed002.yaml")
	if err != nil {
		t.Fatal(err)
	}
	swapped := filepath.Join(t.TempDir(), "seed002.yaml")
	if err := os.WriteFile(swapped, []byte(strings.ReplaceAll(string(seed002), "zerokoll.azurecr.io/azurepodidentitydemo", "podid.local/kvreader:latest")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"../integration/testdata/seed004.yaml", swapped} {
		if out, err := k("apply", "-f", f); err != nil {
			t.Fatalf("kubectl apply -f %s: %v\n%s", f, err, out)
		}
	}
	if out, err := k("-n", "aad-pod-identity-poc", "run", "unlabelled", "--image=busybox", "--restart=Never", "--command", "--",
		"sh", "-c", `sleep 8; wget -S -O- --header Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net" 2>&1; sleep 3600`); err != nil {
		t.Fatalf("kubectl run: %v\n%s", err, out)
	}

	// podid up's own demo pods on the fake nodes carry the same labels;
	// the Deployment's pod is the one on the real node.
	seedPod := seed004ReadsItsSecret(t, k)
	pods, _ := k("get", "pods", "-A", "-o", "wide")
	for _, p := range []string{"az-keyvault-reader-test-", "podidentitydemo", "unlabelled"} {
		if !lineHas(pods, p, realNode) {
			t.Errorf("pod %s is not on the real node:\n%s", p, pods)
		}
	}
	reader, _ := k("-n", "aad-pod-identity-poc", "logs", seedPod, "-c", "az-keyvault-reader-sidecar")
	// The secret's name, grafana-admin-username-poc, holds its value.
	if !strings.Contains(reader, "status=200") || strings.Contains(strings.ReplaceAll(reader, "grafana-admin-username-poc", ""), demoSecretValue) {
		t.Errorf("the reader should log the read and never the value:\n%s", reader)
	}
	waitFor(t, "the unlabelled pod's answer from 169.254.169.254", func(ctx context.Context) error {
		out, _ := k("-n", "aad-pod-identity-poc", "logs", "unlabelled")
		if !strings.Contains(out, "HTTP/1.1") {
			return fmt.Errorf("no answer yet: %q", out)
		}
		if strings.Contains(out, "access_token") || strings.Contains(out, " 200 ") {
			t.Fatalf("an unlabelled pod got a token:\n%s", out)
		}
		return nil
	})
	perPodRulesOnTheRealNode(t, k)

	must(t, "down", "--state-dir", dir)
	noneLeft(t, dir)
	if d := testenv.Diff(before, testenv.Snapshot(t)); len(d) > 0 {
		t.Errorf("podid down left the machine changed:\n%s", strings.Join(d, "\n"))
	}
}

// seed004ReadsItsSecret waits until the pod of seed 004's Deployment on the
// real node has logged the secret it read from Key Vault with a token from
// 169.254.169.254, and returns the pod.
func seed004ReadsItsSecret(t *testing.T, k func(args ...string) (string, error)) string {
	t.Helper()
	var seedPod string
	waitFor(t, "seed 004's Deployment to have a pod on the real node", func(ctx context.Context) error {
		out, err := k("-n", "aad-pod-identity-poc", "get", "pods", "-l", "app=az-keyvault-reader-test", "--field-selector", "spec.nodeName="+realNode, "-o", "name")
		if seedPod = strings.TrimSpace(out); err != nil || seedPod == "" {
			return fmt.Errorf("no pod yet: %q (%v)", out, err)
		}
		return nil
	})
	waitFor(t, "seed 004's pod on the real node to log the secret", func(ctx context.Context) error {
		out, err := k("-n", "aad-pod-identity-poc", "logs", seedPod, "-c", "busybox")
		if err != nil || !strings.Contains(out, demoSecretValue) {
			return fmt.Errorf("busybox log %q (%v)", out, err)
		}
		return nil
	})
	return seedPod
}

// perPodRulesOnTheRealNode checks, in the host's nat table, that every pod
// running on the real node has its own redirect tied to its bridge port
// (physdev --physdev-in), so that another pod claiming its address meets
// the guard instead.
func perPodRulesOnTheRealNode(t *testing.T, k func(args ...string) (string, error)) {
	t.Helper()
	waitFor(t, "a per-pod rule for every pod running on the real node", func(ctx context.Context) error {
		ips, err := k("get", "pods", "-A", "--field-selector", "spec.nodeName="+realNode+",status.phase=Running",
			"-o", `jsonpath={range .items[*]}{.status.podIP}{"\n"}{end}`)
		if err != nil {
			return fmt.Errorf("list the real node's pods: %v: %s", err, ips)
		}
		nat, err := exec.Command("iptables", "-w", "-t", "nat", "-S", "PODID-METADATA").CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables -t nat -S PODID-METADATA: %v: %s", err, nat)
		}
		var seen int
		for _, ip := range strings.Fields(ips) {
			if !lineHas(string(nat), "-s "+ip+"/32", "--physdev-in ") {
				return fmt.Errorf("no rule ties %s to its bridge port:\n%s", ip, nat)
			}
			seen++
		}
		if seen < 3 {
			return fmt.Errorf("%d pods running on the real node, want the 3 the test started", seen)
		}
		// The real node's pods come from a /24 (node.PodRange); its
		// redirect is the fallback the per-pod rules replace.
		if lineHas(string(nat), "/24", "-j DNAT") {
			return fmt.Errorf("the pod CIDR is still redirected beside the per-pod rules:\n%s", nat)
		}
		t.Logf("per-pod rules on the real node:\n%s", nat)
		return nil
	})
}

func lineHas(text string, words ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

// When podid up itself is killed (SIGKILL: no teardown), containerd and the
// kubelets die with it but the pods' shims, containers and namespaces do
// not; podid down then removes them, with the agents' rules, and leaves the
// machine as it was.
func TestDownAfterUpWasKilledLeavesNothing(t *testing.T) {
	testenv.RequireRealNodes(t)
	before := testenv.Snapshot(t)
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() { _ = run(t, nil, "down", "--state-dir", dir) })
	must(t, "up", "--detach", "--state-dir", dir, "--real-nodes", "1")
	rec := readRecord(t, dir)
	k := kubectl(t, rec.Kubeconfig)
	if out, err := k("run", "sleeper", "--image=busybox", "--command", "--", "sleep", "3600"); err != nil {
		t.Fatalf("kubectl run: %v\n%s", err, out)
	}
	waitFor(t, "the pod to run on the real node", func(ctx context.Context) error {
		out, err := k("get", "pod", "sleeper", "-o", "jsonpath={.status.phase}")
		if err != nil || out != "Running" {
			return fmt.Errorf("phase %q (%v)", out, err)
		}
		return nil
	})
	if err := syscall.Kill(rec.Supervisor.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "podid up to be gone", func(ctx context.Context) error {
		if err := syscall.Kill(rec.Supervisor.PID, 0); err == nil {
			return fmt.Errorf("pid %d still runs", rec.Supervisor.PID)
		}
		return nil
	})
	if len(testenv.ProcessesUnder(t, dir)) == 0 {
		t.Fatal("killing podid up left nothing running; the test would prove nothing")
	}
	must(t, "down", "--state-dir", dir)
	noneLeft(t, dir)
	if d := testenv.Diff(before, testenv.Snapshot(t)); len(d) > 0 {
		t.Errorf("podid down after a killed podid up left the machine changed:\n%s", strings.Join(d, "\n"))
	}
}

// upWithARealNode runs podid up --detach --real-nodes 1 in a new state
// folder, which podid down stops when the test ends, leaving no process.
// It skips the test where real nodes cannot run.
func upWithARealNode(t *testing.T) (result, *plan.Record) {
	t.Helper()
	testenv.RequireRealNodes(t)
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	up := must(t, "up", "--detach", "--state-dir", dir, "--real-nodes", "1")
	rec := readRecord(t, dir)
	t.Logf("podid up --detach --real-nodes 1 took %s (ready after %.1fs)", up.took.Round(time.Millisecond), rec.StartSeconds)
	return up, rec
}
