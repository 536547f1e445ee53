package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/testenv"
)

// helmVersion is the helm CLI the chart tests install with: the version of
// the Helm SDK in go.mod, so the CLI and the render tests agree.
const helmVersion = "v3.19.5"

// realNode is the node podid up --real-nodes 1 runs for real.
const realNode = "aks-system-12583646-vmss000002"

// The demonstration: on podid up's cluster with a real node and no
// podid of its own, `helm install podid charts/podid` with the values
// podid up wrote puts mic and nmi on the real node as containers of
// podid's image; the agent programs the node's iptables from its
// container; seed 004's workload, applied as published, reads its secret
// with a token from 169.254.169.254, and podid doctor finds the install
// healthy; `helm upgrade` to a new image tag never lets a labelled pod
// reach the node's IMDS; `helm uninstall` leaves no rule, chain, process or
// object of podid behind; and the same render as a manifest installs with
// `kubectl apply` and uninstalls with `kubectl delete`, keeping the CRDs.
func TestHelmInstallOnTheRealNode(t *testing.T) {
	e := upForTheChart(t)
	dir, rec, k, h := e.dir, e.rec, e.k, e.h

	start := time.Now()
	if out, err := h("install", "podid", "../../charts/podid", "-n", "kube-system", "-f", rec.Chart.ValuesFile, "--wait", "--timeout", "3m"); err != nil {
		pods, _ := k("get", "pods", "-A", "-o", "wide")
		t.Fatalf("helm install: %v\n%s\npods:\n%s", err, out, pods)
	}
	rolledOut(t, k)
	t.Logf("helm install → mic and the agent ready on the real node in %s", time.Since(start).Round(time.Millisecond))
	pods, _ := k("-n", "kube-system", "get", "pods", "-l", "app.kubernetes.io/instance=podid", "-o", "wide")
	for _, p := range []string{"podid-mic-", "podid-nmi-"} {
		if !lineHas(pods, p, "Running", realNode) {
			t.Errorf("no %s pod Running on the real node:\n%s", p, pods)
		}
	}
	nat, err := exec.Command("iptables", "-t", "nat", "-S").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nat), "PODID-METADATA") {
		t.Fatalf("the agent's container installed no rule:\n%s", nat)
	}
	nmiLog, _ := k("-n", "kube-system", "logs", "daemonset/podid-nmi")
	t.Logf("agent log:\n%s", lastLines(nmiLog, 8))

	if out, err := k("apply", "-f", "../integration/testdata/seed004.yaml"); err != nil {
		t.Fatalf("kubectl apply seed 004: %v\n%s", err, out)
	}
	seedPod := seed004ReadsItsSecret(t, k)

	// The doctor finds the chart's mic and agent as on a cluster of one's
	// own: a Deployment holding the Lease, an agent ready on the pod's node,
	// one installation.
	var values struct {
		NMI struct {
			ProbePort int `json:"probePort"`
		} `json:"nmi"`
	}
	if b, err := os.ReadFile(rec.Chart.ValuesFile); err != nil || yaml.Unmarshal(b, &values) != nil {
		t.Fatalf("read %s: %v", rec.Chart.ValuesFile, err)
	}
	d := doctorPod(t, dir, "aad-pod-identity-poc/"+strings.TrimPrefix(seedPod, "pod/"), "--agent-port", fmt.Sprint(values.NMI.ProbePort))
	for _, check := range []string{"controller", "node-agent", "duplicate-agents", "pod-binding", "assignment-state"} {
		var seen []string
		for _, f := range d.report.Findings {
			if f.Check == check {
				seen = append(seen, string(f.Status)+": "+f.Message)
				if f.Status != doctor.Pass {
					t.Errorf("podid doctor on the chart's install: %s %s %s: %s", check, f.Status, f.Object, f.Message)
				}
			}
		}
		if len(seen) == 0 {
			t.Errorf("podid doctor reported nothing for %s:\n%s", check, d.out)
		}
		t.Logf("doctor %s: %s", check, strings.Join(seen, "; "))
	}

	// helm upgrade to a new image tag while a labelled pod asks for a token
	// every 50 ms, and a stand-in for the node's IMDS at 169.254.169.254:80
	// on the node counts every request that reaches it.
	hits := e.nodeIMDSStandIn(t)
	if out, err := k("-n", "aad-pod-identity-poc", "run", "prober", "--image=busybox", "--restart=Never",
		"--labels=aadpodidbinding=bind-user-identity-keyvault", "--command", "--", "sh", "-c", proberScript); err != nil {
		t.Fatalf("kubectl run prober: %v\n%s", err, out)
	}
	waitFor(t, "the prober's first token", func(ctx context.Context) error {
		out, err := k("-n", "aad-pod-identity-poc", "logs", "prober")
		if err != nil || !strings.Contains(out, "ok") {
			return fmt.Errorf("prober log %q (%v)", lastLines(out, 2), err)
		}
		return nil
	})
	if err := crane.Tag(rec.ImageRegistry+"/podid:latest", "v2", crane.Insecure); err != nil {
		t.Fatalf("tag podid's image v2: %v", err)
	}
	upgradeStart := time.Now()
	if out, err := h("upgrade", "podid", "../../charts/podid", "-n", "kube-system", "-f", rec.Chart.ValuesFile, "--set", "image.tag=v2", "--wait", "--timeout", "3m"); err != nil {
		pods, _ := k("get", "pods", "-A", "-o", "wide")
		t.Fatalf("helm upgrade: %v\n%s\npods:\n%s", err, out, pods)
	}
	upgraded := time.Since(upgradeStart)
	waitFor(t, "the new agent's pod", func(ctx context.Context) error {
		out, err := k("-n", "kube-system", "get", "pods", "-l", "app.kubernetes.io/component=nmi", "-o", "jsonpath={.items[*].spec.containers[0].image} {.items[*].status.containerStatuses[0].ready}")
		if err != nil || out != "podid.local/podid:v2 true" {
			return fmt.Errorf("agent pods: %q (%v)", out, err)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // tokens after the rollout
	probes, _ := k("-n", "aad-pod-identity-poc", "logs", "prober", "--timestamps")
	r := rolloutFrom(probes, upgradeStart.Add(-time.Second), time.Now())
	t.Logf("helm upgrade to tag v2 --wait: %s; during it %d tokens, %d refused, longest gap between tokens %s; %d requests reached the node's IMDS",
		upgraded.Round(time.Millisecond), r.ok, r.refused, r.longestGap.Round(time.Millisecond), hits.Load())
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests of a labelled pod reached the node's IMDS during the upgrade", n)
	}
	if r.ok == 0 || r.longestGap > 30*time.Second {
		t.Errorf("the pod's tokens did not come back after the upgrade: %+v\n%s", r, lastLines(probes, 20))
	}

	start = time.Now()
	atUninstall := hits.Load()
	if out, err := h("uninstall", "podid", "-n", "kube-system", "--wait", "--timeout", "3m"); err != nil {
		t.Fatalf("helm uninstall: %v\n%s", err, out)
	}
	nothingOfPodidLeft(t, k, "helm uninstall", hits, atUninstall)
	t.Logf("helm uninstall → pods gone and rules removed in %s", time.Since(start).Round(time.Millisecond))

	// The one-file manifest, rendered as deploy/podid.yaml is but with this
	// cluster's values, installs and uninstalls with kubectl alone.
	manifest := filepath.Join(t.TempDir(), "podid.yaml")
	out, err := h("template", "podid", "../../charts/podid", "-n", "kube-system", "-f", rec.Chart.ValuesFile, "--include-crds", "--kube-version", "1.34.2")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	if err := os.WriteFile(manifest, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if out, err := k("apply", "--server-side", "-f", manifest); err != nil {
		t.Fatalf("kubectl apply --server-side -f podid.yaml: %v\n%s", err, out)
	}
	rolledOut(t, k)
	applied := time.Now()
	waitFor(t, "the prober's tokens from the manifest's agent", func(ctx context.Context) error {
		probes, _ := k("-n", "aad-pod-identity-poc", "logs", "prober", "--timestamps", "--since=30s")
		if r := rolloutFrom(probes, applied, time.Now()); r.ok == 0 || r.refused > 0 && r.ok < 3 {
			return fmt.Errorf("since the install: %+v", r)
		}
		return nil
	})
	t.Logf("kubectl apply -f podid.yaml → tokens again in %s", time.Since(start).Round(time.Millisecond))
	atDelete := hits.Load()
	time.Sleep(time.Second)
	if n := hits.Load(); n != atDelete {
		t.Errorf("%d requests reached the node's IMDS with the manifest's agent serving", n-atDelete)
	}
	// Its CRDs stay: deleting them would delete every AzureIdentity.
	if out, err := k("delete", "-f", manifest, "-l", "app.kubernetes.io/instance=podid", "--wait"); err != nil {
		t.Fatalf("kubectl delete -f podid.yaml -l app.kubernetes.io/instance=podid: %v\n%s", err, out)
	}
	nothingOfPodidLeft(t, k, "kubectl delete -f podid.yaml", hits, hits.Load())
	if out, err := k("-n", "aad-pod-identity-poc", "get", "azureidentity", "aad-user-identity", "-o", "name"); err != nil {
		t.Errorf("the seed's AzureIdentity went with the uninstall (%v): %s", err, out)
	}

	e.down(t)
}

// proberScript asks the agent for a token every 50 ms and prints ok or
// fail for each answer.
const proberScript = `while true; do if wget -q -O /dev/null --header Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"; then echo ok; else echo fail; fi; sleep 0.05; done`

// rollout is what the prober saw in a time window.
type rollout struct {
	ok, refused int
	longestGap  time.Duration
}

// rolloutFrom reads `kubectl logs --timestamps` of the prober between from
// and to: tokens, refusals and the longest time between two tokens.
func rolloutFrom(logs string, from, to time.Time) rollout {
	var r rollout
	var last time.Time
	for _, line := range strings.Split(logs, "\n") {
		ts, word, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || at.Before(from) || at.After(to) {
			continue
		}
		switch word {
		case "ok":
			r.ok++
			if !last.IsZero() && at.Sub(last) > r.longestGap {
				r.longestGap = at.Sub(last)
			}
			last = at
		case "fail":
			r.refused++
		}
	}
	return r
}

// nodeIMDSStandIn stands in for the node's IMDS where a real node reaches
// it: not on the node itself but one hop away, so that pods' metadata
// traffic that no rule redirects is forwarded (FORWARD, where the agent's
// guard refuses it) as on an Azure VM. 169.254.169.254 lives in a network
// namespace of the test's, joined to the host by a veth pair with a host
// route; a server listening in that namespace counts the requests. The
// host route serves every pod of the host. e.down removes it, before it
// compares the machine with how it was.
func (e *chartEnv) nodeIMDSStandIn(t *testing.T) *atomic.Int64 {
	t.Helper()
	n := os.Getpid() % 100000
	ns, host, peer := fmt.Sprintf("pdimds%d", n), fmt.Sprintf("pdimh%d", n), fmt.Sprintf("pdimn%d", n)
	ipCmd := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ipCmd("netns", "add", ns)
	e.onDown(t, func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ipCmd("link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
	e.onDown(t, func() { _ = exec.Command("ip", "link", "del", host).Run() })
	const hostSide = "169.254.169.1"
	ipCmd("addr", "add", hostSide+"/32", "dev", host)
	ipCmd("link", "set", host, "up")
	ipCmd("route", "add", "169.254.169.254/32", "dev", host)
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", "169.254.169.254/32", "dev", peer},
		{"link", "set", peer, "up"},
		{"route", "add", hostSide + "/32", "dev", peer},
		{"route", "add", "default", "via", hostSide, "dev", peer},
	} {
		ipCmd(append([]string{"netns", "exec", ns, "ip"}, args...)...)
	}
	ln, err := listenInNetns(ns, "169.254.169.254:80")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "the node's IMDS (stand-in)", http.StatusNotFound)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.onDown(t, func() { _ = srv.Close() })
	return &hits
}

// listenInNetns opens a TCP listener inside the named network namespace:
// a socket belongs to the namespace it was created in, so one thread
// enters the namespace for the listen and returns.
func listenInNetns(ns, address string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // the thread is dropped, not reused, if it cannot go back
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer self.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("enter network namespace %s: %w", ns, err)}
			return
		}
		ln, err := net.Listen("tcp", address)
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{ln, err}
	}()
	r := <-done
	return r.ln, r.err
}

// nothingOfPodidLeft waits, after an uninstall, until no pod of the release
// runs, no podid rule is left on the node and the prober's requests reach
// the stand-in for the node's IMDS again (more than since), which proves the
// zeros seen while podid served were the rules' doing; then it checks that
// no agent process and no object of the release is left.
func nothingOfPodidLeft(t *testing.T, k func(args ...string) (string, error), how string, hits *atomic.Int64, since int64) {
	t.Helper()
	waitFor(t, "podid's pods to be gone after "+how, func(ctx context.Context) error {
		out, err := k("get", "pods", "-A", "-l", "app.kubernetes.io/instance=podid", "-o", "name")
		if err != nil || strings.TrimSpace(out) != "" {
			return fmt.Errorf("pods left: %q (%v)", out, err)
		}
		return nil
	})
	waitFor(t, "no podid rule on the node after "+how, func(ctx context.Context) error {
		out, err := exec.Command("iptables-save").Output()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "PODID") {
				return fmt.Errorf("left: %s", line)
			}
		}
		return nil
	})
	waitFor(t, "the prober to reach the node's IMDS after "+how, func(ctx context.Context) error {
		if hits.Load() <= since {
			return errors.New("no new request at the stand-in yet")
		}
		return nil
	})
	if left := podidAgents(); len(left) > 0 {
		t.Errorf("podid processes left after %s: %v", how, left)
	}
	kinds := "all,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings,poddisruptionbudgets,configmaps,secrets,azurepodidentityexceptions"
	if out, err := k("get", kinds, "-A", "-l", "app.kubernetes.io/instance=podid", "-o", "name"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("objects left after %s (%v):\n%s", how, err, out)
	}
}

// rolledOut waits until the agent and mic have rolled out. helm --wait can
// pass a DaemonSet before its controller has counted the nodes; kubectl
// rollout status waits for the controller's word.
func rolledOut(t *testing.T, k func(args ...string) (string, error)) {
	t.Helper()
	for _, w := range []string{"daemonset/podid-nmi", "deployment/podid-mic"} {
		if out, err := k("-n", "kube-system", "rollout", "status", w, "--timeout=90s"); err != nil {
			pods, _ := k("get", "pods", "-A", "-o", "wide")
			t.Fatalf("kubectl rollout status %s: %v\n%s\npods:\n%s", w, err, out, pods)
		}
	}
}

// chartEnv is podid up's cluster with a real node and no podid of its own,
// for the chart to install onto.
type chartEnv struct {
	dir string
	rec *plan.Record
	// k runs kubectl and h the helm CLI against the cluster.
	k, h   func(args ...string) (string, error)
	before testenv.Machine
	// lockMade: the chart mounts the host's xtables lock, creating it.
	lockMade bool
	// undo are the test's own changes to the machine, undone by down (or
	// the test's cleanup), last first.
	undo []func()
}

// onDown registers f to run at down, or at the test's end if down is not
// reached; once either way.
func (e *chartEnv) onDown(t *testing.T, f func()) {
	var once sync.Once
	g := func() { once.Do(f) }
	e.undo = append(e.undo, g)
	t.Cleanup(g)
}

// upForTheChart runs podid up --real-nodes 1 --without-podid and checks
// that it runs no mic or agent of its own and prints the helm install line.
// Cleanup takes everything down.
func upForTheChart(t *testing.T) *chartEnv {
	t.Helper()
	testenv.RequireRealNodes(t)
	helm := helmCLI(t)
	e := &chartEnv{before: testenv.Snapshot(t), dir: filepath.Join(t.TempDir(), "state")}
	_, lockErr := os.Stat("/run/xtables.lock")
	e.lockMade = lockErr != nil
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", e.dir)
		noneLeft(t, e.dir)
		if e.lockMade {
			_ = os.Remove("/run/xtables.lock")
		}
	})
	up := must(t, "up", "--detach", "--state-dir", e.dir, "--real-nodes", "1", "--without-podid")
	e.rec = readRecord(t, e.dir)
	t.Logf("podid up --real-nodes 1 --without-podid --detach took %s", up.took.Round(time.Millisecond))
	if e.rec.Chart == nil || !strings.Contains(up.stdout, "helm install podid charts/podid -n kube-system -f "+e.rec.Chart.ValuesFile) {
		t.Fatalf("podid up --without-podid should print the helm install line:\n%s", up.stdout)
	}
	for _, p := range e.rec.Processes {
		if strings.HasPrefix(p.Name, "nmi") || p.Name == "mic" {
			t.Fatalf("podid up --without-podid runs %s itself", p.Name)
		}
	}
	e.k = kubectl(t, e.rec.Kubeconfig)
	e.h = func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, helm, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+e.rec.Kubeconfig, "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	return e
}

// down runs podid down and checks that the machine is as before.
func (e *chartEnv) down(t *testing.T) {
	t.Helper()
	for i := len(e.undo) - 1; i >= 0; i-- {
		e.undo[i]()
	}
	must(t, "down", "--state-dir", e.dir)
	noneLeft(t, e.dir)
	if e.lockMade {
		_ = os.Remove("/run/xtables.lock")
	}
	if d := testenv.Diff(e.before, testenv.Snapshot(t)); len(d) > 0 {
		t.Errorf("podid down left the machine changed:\n%s", strings.Join(d, "\n"))
	}
}

// podidAgents lists processes running `podid nmi`.
func podidAgents() []string {
	return testenv.Processes(func(args []string) bool {
		return len(args) > 1 && filepath.Base(args[0]) == "podid" && args[1] == "nmi"
	})
}

// helmCLI returns the helm CLI of helmVersion, built once from the Go
// module proxy.
func helmCLI(t *testing.T) string {
	t.Helper()
	return goTool(t, "helm", "helm.sh/helm/v3/cmd/helm@"+helmVersion, func(bin string) bool {
		out, err := exec.Command(bin, "version", "--short").Output()
		return err == nil && strings.HasPrefix(string(out), helmVersion)
	})
}
