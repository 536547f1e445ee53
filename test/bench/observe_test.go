package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// observer watches AzureAssignedIdentity objects and counts the Assigned
// ones per namespace prefix. Both phases of BenchmarkAssign end when it has
// seen every object, so both pay the same for being watched; polling full
// lists instead cost the API server more than the writes being measured.
type observer struct {
	mu       sync.Mutex
	assigned map[string]bool // namespace/name of every object: is it Assigned
}

func observe(ctx context.Context, b *testing.B, env *testenv.Env) *observer {
	log.SetLogger(logr.Discard()) // the benchmark reports; the observer's reflector need not log
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	inf, err := c.GetInformer(ctx, &podidv1.AzureAssignedIdentity{})
	if err != nil {
		b.Fatal(err)
	}
	o := &observer{assigned: map[string]bool{}}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    o.set,
		UpdateFunc: func(_, n any) { o.set(n) },
		DeleteFunc: o.del,
	}); err != nil {
		b.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		b.Fatal("observer cache did not sync")
	}
	return o
}

func (o *observer) set(obj any) {
	a, ok := obj.(*podidv1.AzureAssignedIdentity)
	if !ok {
		return
	}
	key := a.Namespace + "/" + a.Name
	o.mu.Lock()
	o.assigned[key] = a.Status.Status == podidv1.AssignedIDAssigned
	o.mu.Unlock()
}

func (o *observer) del(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	a, ok := obj.(*podidv1.AzureAssignedIdentity)
	if !ok {
		return
	}
	key := a.Namespace + "/" + a.Name
	o.mu.Lock()
	delete(o.assigned, key)
	o.mu.Unlock()
}

// counts returns how many objects in namespaces starting with prefix exist
// and how many of them are Assigned.
func (o *observer) counts(prefix string) (present, assigned int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, isAssigned := range o.assigned {
		if strings.HasPrefix(k, prefix) {
			present++
			if isAssigned {
				assigned++
			}
		}
	}
	return present, assigned
}

// waitFor blocks until done(present, assigned) holds for prefix.
func (o *observer) waitFor(ctx context.Context, b *testing.B, prefix string, done func(present, assigned int) bool) {
	tick := time.NewTicker(250 * time.Millisecond) // counting is O(objects); do it at most 4 times a second
	defer tick.Stop()
	for {
		present, assigned := o.counts(prefix)
		if done(present, assigned) {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("%s: %d objects, %d Assigned, when time ran out", prefix, present, assigned)
		case <-tick.C:
		}
	}
}

// cpuMeter reads the CPU time of named processes, to say where a phase's
// time went on a shared machine.
type cpuMeter map[string]int

func (m cpuMeter) read(b *testing.B) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, pid := range m {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Logf("cpu of %s: %v", name, err)
			continue
		}
		// Fields after the parenthesised command: utime and stime are the
		// 12th and 13th, in clock ticks of 10 ms on Linux.
		rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
		f := strings.Fields(rest)
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[name] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}

// since formats the CPU each process used since before, e.g.
// "kube-apiserver 12.3s, etcd 4.1s".
func (m cpuMeter) since(b *testing.B, before map[string]time.Duration) string {
	now := m.read(b)
	names := make([]string, 0, len(now))
	for n := range now {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1fs", n, (now[n]-before[n]).Seconds()))
	}
	return strings.Join(parts, ", ")
}

// requestCounts reads the API server's request counters, by verb and
// resource, so a phase can say which calls it made.
func requestCounts(ctx context.Context, b *testing.B, env *testenv.Env) map[string]float64 {
	raw, err := env.Kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		b.Logf("apiserver metrics: %v", err)
		return nil
	}
	samples, err := testenv.Samples(bytes.NewReader(raw), "apiserver_request_total")
	if err != nil {
		b.Logf("apiserver metrics: %v", err)
		return nil
	}
	out := map[string]float64{}
	for _, x := range samples {
		key := x.Labels["verb"] + " " + x.Labels["resource"]
		if x.Labels["subresource"] != "" {
			key += "/" + x.Labels["subresource"]
		}
		out[key] += x.Value
	}
	return out
}

// requestsSince formats the requests made since before, most first.
func requestsSince(ctx context.Context, b *testing.B, env *testenv.Env, before map[string]float64) string {
	now := requestCounts(ctx, b, env)
	type kv struct {
		k string
		v float64
	}
	var d []kv
	for k, v := range now {
		if n := v - before[k]; n >= 1 {
			d = append(d, kv{k, n})
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i].v > d[j].v })
	parts := make([]string, 0, len(d))
	for _, e := range d {
		parts = append(parts, fmt.Sprintf("%s %.0f", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// profileAPIServer saves a CPU profile of the API server, taken over the
// next seconds, to dir/name.cpu (PODID_BENCH_APISERVER_PPROF=dir).
func profileAPIServer(ctx context.Context, b *testing.B, env *testenv.Env, name string, seconds int) {
	dir := os.Getenv("PODID_BENCH_APISERVER_PPROF")
	if dir == "" {
		return
	}
	go func() {
		raw, err := env.Kube.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(seconds)).Timeout(time.Duration(seconds+30) * time.Second).DoRaw(ctx)
		if err != nil {
			b.Logf("api server profile %s: %v", name, err)
			return
		}
		path := filepath.Join(dir, name+".cpu")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			b.Logf("api server profile %s: %v", name, err)
			return
		}
		b.Logf("api server CPU profile in %s", path)
	}()
}
