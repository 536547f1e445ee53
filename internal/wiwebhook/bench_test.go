package wiwebhook_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// benchRate is the pace of pod creations.
const benchRate = 50

// BenchmarkAdmissionLatency creates b.N pods at 50 per second through a
// real API server and reports the client's create latency, p50 and p99, for
// labelled pods (mutating webhook and its patch) and unlabelled ones (the
// warning webhook only, nothing to warn about), and for pods no webhook
// selects (the API server and etcd alone); -benchtime 250x runs each
// for five seconds. ns/op is the pace, 20 ms.
func BenchmarkAdmissionLatency(b *testing.B) {
	e := cluster(b)
	ns := e.NewNamespace(b)
	r := startReplica(b, e, ns, "wi-bench", wiwebhook.Lifetimes{}, time.Minute)
	register(b, e, "wi-bench", "https://"+r.addr, ns)
	serviceAccount(b, e, ns, "workload", map[string]string{wi.ClientIDAnnotation: "c1"})
	serviceAccount(b, e, ns, "bare", nil)
	waitAdmitting(b, e.Kube, ns, "workload")
	cfg := rest.CopyConfig(e.Config)
	cfg.WarningHandler = rest.NoWarnings{}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Pods of another namespace reach no webhook: the baseline.
	other := e.NewNamespace(b)
	serviceAccount(b, e, other, "workload", map[string]string{wi.ClientIDAnnotation: "c1"})
	for _, bc := range []struct {
		name, ns, sa string
		labels       map[string]string
	}{{"labelled", ns, "workload", labelled}, {"unlabelled", ns, "bare", nil}, {"no-webhook", other, "workload", labelled}} {
		b.Run(bc.name, func(b *testing.B) {
			var (
				mu        sync.Mutex
				latencies []time.Duration
				wg        sync.WaitGroup
				errs      int
			)
			tick := time.NewTicker(time.Second / benchRate)
			defer tick.Stop()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				<-tick.C
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := pod(bc.ns, fmt.Sprintf("%s-%d-%d", bc.name, b.N, i), bc.sa, bc.labels)
					start := time.Now()
					_, err := kube.CoreV1().Pods(bc.ns).Create(context.Background(), p, metav1.CreateOptions{})
					d := time.Since(start)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs++
						return
					}
					latencies = append(latencies, d)
				}()
			}
			wg.Wait()
			b.StopTimer()
			if errs > 0 {
				b.Fatalf("%d of %d pods refused", errs, b.N)
			}
			slices.Sort(latencies)
			b.ReportMetric(ms(percentile(latencies, 50)), "p50-ms")
			b.ReportMetric(ms(percentile(latencies, 99)), "p99-ms")
		})
	}
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
