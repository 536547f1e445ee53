package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/proc"
	"github.com/podid/podid/internal/testenv"
)

// Scale of BenchmarkAssign, from the controller issue: 10,000 pods on 500
// nodes, 1,000 identities and bindings. PODID_BENCH_SCALE=0.1 shrinks it.
// memLimit is the soft memory limit mic runs with, as a deployment with a
// 256Mi memory limit sets it: mic's RSS stays about 25 MiB above it.
var memLimit = cmp.Or(os.Getenv("PODID_BENCH_GOMEMLIMIT"), "170MiB")

var (
	benchPods       = 10000
	benchNodes      = 500
	benchIdentities = 1000
	namespaces      = 10
	workers         = 16
)

var scaleOnce sync.Once

func scale(b *testing.B) {
	scaleOnce.Do(func() { applyScale(b) })
}

func applyScale(b *testing.B) {
	if v := os.Getenv("PODID_BENCH_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			b.Fatalf("PODID_BENCH_SCALE=%q: want a number in (0, 1]", v)
		}
		benchPods, benchNodes, benchIdentities = int(float64(benchPods)*f), max(int(float64(benchNodes)*f), 2), max(int(float64(benchIdentities)*f), namespaces)
	}
}

// BenchmarkAssign measures how long mic (a separate process, federated
// mode) takes to bring every pod's AzureAssignedIdentity to Assigned,
// against the time the API server needs to create and status-update the
// same number of objects with the same parallelism and no controller, and
// reports mic's peak RSS.
func BenchmarkAssign(b *testing.B) {
	scale(b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	opts := testenv.Options{Nodes: benchNodes}
	if os.Getenv("PODID_BENCH_APISERVER_PPROF") != "" {
		opts.ExtraAPIServerArgs = []string{"--profiling=true"}
	}
	env := testenv.StartT(b, opts)
	mic := buildMIC(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(ctx, b, env, mic, i)
	}
}

func run(ctx context.Context, b *testing.B, env *testenv.Env, mic string, round int) {
	prefix := fmt.Sprintf("r%d-", round)
	setup(ctx, b, env, prefix)
	obs := observe(ctx, b, env)
	cpu := cpuMeter(env.PIDs())
	cpu["bench"] = os.Getpid()

	base, before, reqs := time.Now(), cpu.read(b), requestCounts(ctx, b, env)
	profileAPIServer(ctx, b, env, "apiserver-alone", 15)
	baseline(ctx, b, env, obs, prefix)
	baseDur := time.Since(base)
	b.Logf("apiserver alone: CPU used %s; requests %s", cpu.since(b, before), requestsSince(ctx, b, env, reqs))
	dropBaseline(ctx, b, env, obs, prefix)

	p, err := proc.Start(proc.Spec{
		Name: "mic", Path: mic,
		Args: []string{"--kubeconfig=" + env.ControlPlane.Kubeconfig, "--leader-elect=false",
			"--metrics-bind-address=0", "--health-probe-bind-address=0", "--workers=" + strconv.Itoa(micWorkers()),
			// The same client limits as the baseline's (testenv: 1000 QPS, burst 2000).
			"--kube-api-qps=1000", "--kube-api-burst=2000", "--pprof-bind-address=" + os.Getenv("PODID_BENCH_PPROF")},
		LogFile: filepath.Join(env.Dir, "mic-bench.log"),
		Env:     []string{"GOMEMLIMIT=" + memLimit},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop(5 * time.Second)
	if addr := os.Getenv("PODID_BENCH_PPROF"); addr != "" {
		go saveProfile(b, addr)
	}
	start, before, reqs := time.Now(), cpu.read(b), requestCounts(ctx, b, env)
	profileAPIServer(ctx, b, env, "apiserver-with-mic", 15)
	cpu["mic"] = p.PID()
	waitAllAssigned(ctx, b, obs, prefix+"ns-")
	micDur := time.Since(start)
	b.Logf("mic: CPU used %s; requests %s", cpu.since(b, before), requestsSince(ctx, b, env, reqs))
	rss := peakRSS(b, p.PID())
	if addr := os.Getenv("PODID_BENCH_PPROF"); addr != "" {
		saveHeap(b, addr)
	}

	b.ReportMetric(micDur.Seconds(), "s-to-all-assigned")
	b.ReportMetric(baseDur.Seconds(), "s-apiserver-alone")
	b.ReportMetric(micDur.Seconds()/baseDur.Seconds(), "ratio")
	b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
	b.Logf("%d pods on %d nodes, %d identities: mic %s to all Assigned; the API server alone %s to create %d objects (ratio %.2f); mic peak RSS %d MiB",
		benchPods, benchNodes, benchIdentities, micDur.Round(time.Millisecond), baseDur.Round(time.Millisecond), benchPods, micDur.Seconds()/baseDur.Seconds(), rss>>20)
}

// setup creates the identities, bindings and Running pods, spread evenly
// over the nodes.
func setup(ctx context.Context, b *testing.B, env *testenv.Env, prefix string) {
	setupIdentities(ctx, b, env, prefix, nil)
	runPodsFor(ctx, b, env, prefix, func(pod, _ int) string { return env.Nodes[pod%len(env.Nodes)].Name })
}

// setupIdentities creates namespaces with benchIdentities/namespaces
// identities and bindings each; identity g (global index) gets resourceID(g)
// when resourceID is not nil.
func setupIdentities(ctx context.Context, b *testing.B, env *testenv.Env, prefix string, resourceID func(g int) string) {
	perNS := benchIdentities / namespaces
	var objs []client.Object
	for n := 0; n < namespaces; n++ {
		ns := fmt.Sprintf("%sns-%d", prefix, n)
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		for k := 0; k < perNS; k++ {
			name := fmt.Sprintf("id-%03d", k)
			id := &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: podidv1.AzureIdentitySpec{ClientID: "248b3285-aa4c-436f-b0da-8ab35ba2d14a"}}
			if resourceID != nil {
				id.Spec.ResourceID = resourceID(n*perNS + k)
			}
			objs = append(objs, id, &podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: name, Selector: "sel-" + name}})
		}
	}
	parallel(ctx, b, len(objs), func(ctx context.Context, i int) error {
		return env.Client.Create(ctx, objs[i])
	}, 1) // in order: a namespace before its objects
}

// runPodsFor creates benchPods pods, pod i in namespace i%namespaces bound
// to identity g = namespace*perNS + (i/namespaces)%perNS, on node(i, g),
// and waits until they run.
func runPodsFor(ctx context.Context, b *testing.B, env *testenv.Env, prefix string, node func(pod, g int) string) {
	perNS := benchIdentities / namespaces
	var pods []*corev1.Pod
	for i := 0; i < benchPods; i++ {
		n, k := i%namespaces, (i/namespaces)%perNS
		pods = append(pods, testenv.Pod(testenv.PodSpec{Namespace: fmt.Sprintf("%sns-%d", prefix, n), Name: fmt.Sprintf("p-%05d", i),
			Node:   node(i, n*perNS+k),
			Labels: map[string]string{podidv1.SelectorLabel: fmt.Sprintf("sel-id-%03d", k)}}))
	}
	start := time.Now()
	if err := env.CreatePods(ctx, pods, 32); err != nil {
		b.Fatal(err)
	}
	for n := 0; n < namespaces; n++ {
		if _, err := env.WaitPodsRunning(ctx, fmt.Sprintf("%sns-%d", prefix, n), benchPods/namespaces, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d pods Running %s after the first create", benchPods, time.Since(start).Round(time.Millisecond))
}

// baseline creates one assignment-sized object per pod, status included,
// with mic's parallelism, and returns once the observer has seen them all:
// what the API server needs to store and publish the result, with no
// controller deciding anything.
func baseline(ctx context.Context, b *testing.B, env *testenv.Env, obs *observer, prefix string) {
	ns := prefix + "baseline"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	parallel(ctx, b, benchPods, func(ctx context.Context, i int) error {
		a := &podidv1.AzureAssignedIdentity{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("p-%05d", i), Labels: map[string]string{podidv1.NodeNameLabel: "node-0"}},
			Spec: podidv1.AzureAssignedIdentitySpec{Pod: fmt.Sprintf("p-%05d", i), PodNamespace: ns, NodeName: "node-0",
				AzureIdentityRef: &podidv1.AzureIdentity{TypeMeta: metav1.TypeMeta{APIVersion: "aadpodidentity.k8s.io/v1", Kind: "AzureIdentity"},
					ObjectMeta: metav1.ObjectMeta{Name: "id", Namespace: ns}, Spec: podidv1.AzureIdentitySpec{ClientID: "248b3285-aa4c-436f-b0da-8ab35ba2d14a"}},
				AzureBindingRef: &podidv1.AzureIdentityBinding{TypeMeta: metav1.TypeMeta{APIVersion: "aadpodidentity.k8s.io/v1", Kind: "AzureIdentityBinding"},
					ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: ns}, Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: "id", Selector: "s"}}},
		}
		a.Status.Status = podidv1.AssignedIDAssigned
		a.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Assigned", Message: "baseline", LastTransitionTime: metav1.Now()}}
		return env.Client.Create(ctx, a)
	}, workers)
	waitAllAssigned(ctx, b, obs, ns+"/")
}

// dropBaseline deletes the baseline's objects, so mic starts on the same
// cluster it would have without the baseline.
func dropBaseline(ctx context.Context, b *testing.B, env *testenv.Env, obs *observer, prefix string) {
	ns := prefix + "baseline"
	if err := env.Client.DeleteAllOf(ctx, &podidv1.AzureAssignedIdentity{}, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	obs.waitFor(ctx, b, ns+"/", func(present, _ int) bool { return present == 0 })
	_ = env.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
}

// waitAllAssigned returns once benchPods objects under prefix are Assigned.
// It logs when the first, a quarter, half, three quarters, 90% and 99% were,
// so a slow start or a long tail shows.
func waitAllAssigned(ctx context.Context, b *testing.B, obs *observer, prefix string) {
	start := time.Now()
	marks := []int{1, benchPods / 4, benchPods / 2, benchPods * 3 / 4, benchPods * 9 / 10, benchPods * 99 / 100}
	var seen []string
	obs.waitFor(ctx, b, prefix, func(_, assigned int) bool {
		for len(marks) > 0 && assigned >= marks[0] {
			seen = append(seen, fmt.Sprintf("%d at %.1fs", marks[0], time.Since(start).Seconds()))
			marks = marks[1:]
		}
		return assigned >= benchPods
	})
	b.Logf("%s: Assigned %s, all %d at %.1fs", prefix, strings.Join(seen, ", "), benchPods, time.Since(start).Seconds())
}

func parallel(ctx context.Context, b *testing.B, n int, fn func(context.Context, int) error, width int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	for w := 0; w < width; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { b.Errorf("item %d: %v", i, err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

func buildMIC(b *testing.B) string {
	out := filepath.Join(b.TempDir(), "mic")
	if o, err := exec.Command("go", "build", "-o", out, "github.com/podid/podid/cmd/mic").CombinedOutput(); err != nil {
		b.Fatalf("build mic: %v\n%s", err, o)
	}
	return out
}

// peakRSS reads VmHWM, the process's peak resident set, in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// saveProfile writes a 10 s CPU profile of mic, taken once it has started,
// to mic.cpu in the working directory (PODID_BENCH_PPROF=host:port).
func saveProfile(b *testing.B, addr string) {
	time.Sleep(2 * time.Second)
	savePprof(b, "http://"+addr+"/debug/pprof/profile?seconds=10", "mic.cpu")
}

// saveHeap writes mic's heap profile, taken when every assignment is done,
// to mic.heap in the working directory: what the caches keep alive.
func saveHeap(b *testing.B, addr string) {
	savePprof(b, "http://"+addr+"/debug/pprof/heap?gc=1", "mic.heap")
}

func savePprof(b *testing.B, url, file string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Logf("profile %s: %v", file, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		b.Logf("profile %s: %v", file, err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
	b.Logf("profile of mic in %s (%s)", file, resp.Status)
}

// micWorkers is mic's --workers: PODID_BENCH_MIC_WORKERS, else the
// baseline's parallelism.
func micWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("PODID_BENCH_MIC_WORKERS")); err == nil && n > 0 {
		return n
	}
	return workers
}
