package e2e

import (
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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/testenv"
)

// BenchmarkRealNodePodToFirstToken measures, on a real node under podid up,
// the time from creating a labelled pod to its container holding its first
// token from 169.254.169.254 (sandbox, CNI, container start, mic's
// assignment, the agent's exchange), for 20 pods one at a time and 20 at
// once; and podid up --real-nodes 1's ready time with binaries and images
// cached. Run it with:
//
//	go test -run '^$' -bench RealNode -benchtime=1x ./test/e2e/
func BenchmarkRealNodePodToFirstToken(b *testing.B) {
	testenv.RequireRealNodes(b)
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "state")
		b.Cleanup(func() { _ = run(b, nil, "down", "--state-dir", dir) })
		up := run(b, nil, "up", "--detach", "--state-dir", dir, "--real-nodes", "1")
		if up.err != nil {
			b.Fatalf("podid up: %v\n%s", up.err, up.stderr)
		}
		rec := readRecord(b, dir)
		b.ReportMetric(rec.StartSeconds, "up-ready-s")
		cfg, err := kubeclient.Config(rec.Kubeconfig)
		if err != nil {
			b.Fatal(err)
		}
		kube := kubernetes.NewForConfigOrDie(cfg)
		// One pod first, so the image is on the node for every measured one.
		if _, _, err := firstToken(kube, "warm-up"); err != nil {
			b.Fatal(err)
		}
		var serial, serialAgent []time.Duration
		for j := 0; j < 20; j++ {
			d, a, err := firstToken(kube, fmt.Sprintf("one-%d", j))
			if err != nil {
				b.Fatal(err)
			}
			serial, serialAgent = append(serial, d), append(serialAgent, a)
		}
		burst, burstAgent := make([]time.Duration, 20), make([]time.Duration, 20)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for j := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				burst[j], burstAgent[j], err = firstToken(kube, fmt.Sprintf("burst-%d", j))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		for name, ds := range map[string][]time.Duration{"one": serial, "burst": burst, "one-from-start": serialAgent, "burst-from-start": burstAgent} {
			p50, p99 := percentiles(ds)
			b.ReportMetric(p50.Seconds()*1000, name+"-p50-ms")
			b.ReportMetric(p99.Seconds()*1000, name+"-p99-ms")
		}
		if r := run(b, nil, "down", "--state-dir", dir); r.err != nil {
			b.Fatalf("podid down: %v", r.err)
		}
	}
}

// firstToken creates a labelled pod on the real node whose container
// prints the time it started, asks 169.254.169.254 for a token until it
// gets one, then prints the time again. It returns the time from the create
// call to the token, and from the container's start to the token (the
// node agent's and mic's share).
func firstToken(kube kubernetes.Interface, name string) (total, afterStart time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "aad-pod-identity-poc"
	// /proc/uptime is the machine's, inside the container too, to the
	// hundredth of a second (busybox's date has no sub-second format).
	script := `cut -d' ' -f1 /proc/uptime; until wget -q -O /dev/null --header Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"; do sleep 0.02; done; cut -d' ' -f1 /proc/uptime; sleep 3600`
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"aadpodidbinding": "bind-user-identity-keyvault"}},
		Spec: corev1.PodSpec{
			NodeSelector:                  map[string]string{"podid.dev/node-kind": "real"},
			TerminationGracePeriodSeconds: new(int64),
			Containers: []corev1.Container{{
				Name: "c", Image: "busybox", ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"sh", "-c", script},
			}},
		},
	}
	start, err := uptime()
	if err != nil {
		return 0, 0, err
	}
	if _, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return 0, 0, err
	}
	defer func() { _ = kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}) }()
	for {
		raw, err := kube.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
		if lines := strings.Fields(string(raw)); err == nil && len(lines) == 2 {
			started, err1 := strconv.ParseFloat(lines[0], 64)
			token, err2 := strconv.ParseFloat(lines[1], 64)
			if err1 != nil || err2 != nil {
				return 0, 0, fmt.Errorf("pod %s printed %q, not two times", name, raw)
			}
			return seconds(token - start), seconds(token - started), nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("pod %s: no token within 2 minutes", name)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// uptime is /proc/uptime's first field, seconds since boot.
func uptime() (float64, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f, _, _ := strings.Cut(string(b), " ")
	return strconv.ParseFloat(f, 64)
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[(len(s)*99+99)/100-1]
}
