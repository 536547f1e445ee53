package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// soakDurationEnv sets how long BenchmarkSoak runs (default 10m).
const soakDurationEnv = "PODID_SOAK_DURATION"

// BenchmarkSoak (make soak) keeps every agent of the test cluster under
// steady load while pods come and go: workers ask for tokens from the
// pods that run, and a churner replaces the oldest pod every second. It
// reports the process's resident memory, goroutines and open descriptors
// after a warm-up and at the end; everything runs in this process (the
// agents, mic, the cloud's clients), so flat figures mean nothing leaks
// per request or per pod.
func BenchmarkSoak(b *testing.B) {
	d := 10 * time.Minute
	if v := os.Getenv(soakDurationEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatalf("%s=%q: %v", soakDurationEnv, v, err)
		}
	}
	for b.Loop() {
		soak(b, d)
	}
}

type usage struct {
	rssKiB, goroutines, fds int
}

func (u usage) String() string {
	return fmt.Sprintf("RSS %d MiB, %d goroutines, %d open descriptors", u.rssKiB/1024, u.goroutines, u.fds)
}

func sampleUsage() usage {
	runtime.GC()
	u := usage{goroutines: runtime.NumGoroutine()}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		u.fds = len(fds)
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				u.rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	return u
}

func soak(b *testing.B, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(b)
	create(ctx, b, azureIdentity(ns, "fed", managedIdentity(b, fedIdentity), ""), binding(ns, "b", "fed", "soak"))

	// live holds an HTTP client for each pod that runs now, speaking from
	// the pod's address.
	var mu sync.Mutex
	live := map[string]*http.Client{}
	start := func(i int) {
		name := fmt.Sprintf("soak-%d", i)
		pod := runPod(ctx, b, testenv.PodSpec{Namespace: ns, Name: name, Node: s.env.Nodes[i%len(s.env.Nodes)].Name,
			Labels: map[string]string{podidv1.SelectorLabel: "soak"}})
		hc := podCaller(b, pod).httpClient(b)
		mu.Lock()
		live[name] = hc
		mu.Unlock()
	}
	const pods = 8
	for i := range pods {
		start(i)
	}

	var ok, throttled, refused, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				var hc *http.Client
				n := 0
				for _, c := range live {
					if n == (i+w)%max(len(live), 1) {
						hc = c
					}
					n++
				}
				mu.Unlock()
				if hc == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				switch status := soakCall(hc); {
				case status == http.StatusOK:
					ok.Add(1)
				case status == http.StatusTooManyRequests:
					throttled.Add(1)
				case status == http.StatusServiceUnavailable || status == http.StatusBadRequest:
					refused.Add(1) // the pod just went away
				default:
					failed.Add(1)
				}
				// Four workers at most ~33 requests a second each stay
				// under the agent's per-pod limit (20/s) across 8 pods.
				time.Sleep(30 * time.Millisecond)
			}
		})
	}

	// Churn: every second the oldest pod goes and a new one comes.
	warm := time.After(min(d/5, time.Minute))
	var first usage
	end := time.After(d)
	next := pods
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-warm:
			first = sampleUsage()
			b.Logf("after warm-up: %s", first)
		case <-end:
			break loop
		case <-tick.C:
			old := fmt.Sprintf("soak-%d", next-pods)
			mu.Lock()
			if hc := live[old]; hc != nil {
				hc.CloseIdleConnections()
			}
			delete(live, old)
			mu.Unlock()
			if err := s.env.Kube.CoreV1().Pods(ns).Delete(ctx, old, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
				b.Fatalf("delete pod %s: %v", old, err)
			}
			start(next)
			next++
		}
	}
	close(stop)
	wg.Wait()
	last := sampleUsage()
	b.Logf("after %s, %d pods replaced: %s; tokens %d, throttled %d, refused %d, failed %d", d, next-pods, last, ok.Load(), throttled.Load(), refused.Load(), failed.Load())
	b.ReportMetric(float64(last.rssKiB-first.rssKiB)/1024, "rss-growth-MiB")
	b.ReportMetric(float64(last.goroutines-first.goroutines), "goroutine-growth")
	b.ReportMetric(float64(last.fds-first.fds), "fd-growth")
	b.ReportMetric(float64(ok.Load())/d.Seconds(), "tokens/s")
	if failed.Load() > 0 || ok.Load() == 0 {
		b.Errorf("%d requests failed, %d got tokens", failed.Load(), ok.Load())
	}
}

// soakCall asks for a token through hc and returns the status (0 when no
// answer came).
func soakCall(hc *http.Client) int {
	req, _ := http.NewRequest(http.MethodGet, "http://"+imdsAddress+"/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net", nil)
	req.Header.Set("Metadata", "true")
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}
