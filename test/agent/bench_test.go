package agent

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// BenchmarkFederatedFirstToken measures the time from the moment the test
// sees a pod of a federated-mode binding Running (kwok) to its real
// ManagedIdentityCredential's first token. Each pod asks for a resource of
// its own, so every first token is a full exchange at the cloud, never a
// cache hit. Goal: p99 ≤ 200 ms.
//
// One at a time is the latency a new pod sees; together is a burst of a
// whole deployment on this 2-core machine, where the cluster, the cloud,
// mic, the agents and the clients share the CPUs.
func BenchmarkFederatedFirstToken(b *testing.B) {
	cases := map[string]struct {
		// rounds of burst pods started together.
		rounds, burst int
	}{
		"20 pods one at a time": {rounds: 20, burst: 1},
		"50 pods together":      {rounds: 1, burst: 50},
	}
	id := managedIdentity(b, fedIdentity)
	for name, tc := range cases {
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var all []time.Duration
			for b.Loop() {
				ns := s.env.NewNamespace(b)
				create(ctx, b, azureIdentity(ns, "fed", id, ""), binding(ns, "b", "fed", "bench"))
				for r := range tc.rounds {
					all = append(all, firstTokens(ctx, b, ns, r*tc.burst, tc.burst)...)
				}
			}
			slices.Sort(all)
			b.ReportMetric(ms(percentile(all, 0.50)), "p50-ms")
			b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
			b.ReportMetric(ms(all[len(all)-1]), "max-ms")
			b.ReportMetric(float64(len(all)), "pods")
		})
	}
}

// firstTokens starts n bound pods (numbered from first) across the nodes
// together and returns, for each, the time from Running to its first token.
func firstTokens(ctx context.Context, b *testing.B, ns string, first, n int) []time.Duration {
	b.Helper()
	w := watchPods(ctx, b, ns)
	defer w.Stop()
	pods := make([]*corev1.Pod, n)
	for i := range pods {
		pods[i] = testenv.Pod(testenv.PodSpec{Namespace: ns, Name: fmt.Sprintf("p-%d", first+i), Node: s.env.Nodes[(first+i)%nodes].Name,
			Labels: map[string]string{podidv1.SelectorLabel: "bench"}})
	}
	errc := make(chan error, 1)
	go func() { errc <- s.env.CreatePods(ctx, pods, 8) }()

	var (
		mu    sync.Mutex
		out   []time.Duration
		fails []error
		wg    sync.WaitGroup
		seen  = map[string]bool{}
	)
	for len(seen) < n {
		var ev watch.Event
		select {
		case ev = <-w.ResultChan():
			if ev.Type == "" || ev.Type == watch.Error {
				b.Fatalf("pod watch failed: %v", ev.Object)
			}
		case <-ctx.Done():
			b.Fatalf("%d of %d pods Running: %v", len(seen), n, ctx.Err())
		}
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || seen[p.Name] || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			continue
		}
		running := time.Now()
		seen[p.Name] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := token(ctx, podCaller(b, p).managedIdentity(b, nil, false), freshResource("bench"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fails = append(fails, fmt.Errorf("pod %s: %w", p.Name, err))
				return
			}
			out = append(out, time.Since(running))
		}()
	}
	wg.Wait()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	if len(fails) > 0 {
		b.Fatalf("%d pods got no token, first: %v", len(fails), fails[0])
	}
	return out
}

// watchPods watches the namespace's pods from now on, resuming when the
// apiserver ends the watch (it does under the burst on this machine).
func watchPods(ctx context.Context, b *testing.B, ns string) watch.Interface {
	b.Helper()
	pods := s.env.Kube.CoreV1().Pods(ns)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatalf("list pods: %v", err)
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return pods.Watch(ctx, o) },
	})
	if err != nil {
		b.Fatalf("watch pods: %v", err)
	}
	return w
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
