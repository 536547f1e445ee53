package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/testenv"
)

const (
	// pullBenchPods is how many pods start one after another.
	pullBenchPods = 20
	// pullBurstPods is how many start at once: the kubelet's default
	// registryBurst. Past it the kubelet refuses pulls ("pull QPS
	// exceeded", registryPullQPS 5/s) after their credential lookups and
	// retries them after a back-off of 10s or more.
	pullBurstPods = 10
)

// BenchmarkACRPullsThroughTheProvider counts what pulls from the embedded
// ACR cost on a real node under podid up, with the kubelet's credential
// cache as the provider's answer sets it (cache-on: AKS's 60m) and turned
// off (cache-off: the provider answers cacheDuration 0, through
// PODID_ACR_CACHE_DURATION=0 in podid up's environment, which the kubelet
// passes on to the provider). Each mode runs on a fresh podid up, so the
// kubelet's cache starts empty.
//
// What makes the kubelet ask for credentials: every pull it makes, before
// the pull (and before its "Pulling image" event), looks the image up in
// its keyring; for an image matching the provider's matchImages that is a
// cache lookup and, on a miss, one provider run (concurrent misses for the
// same image share one run). So each pod here has imagePullPolicy Always:
// with IfNotPresent and the image present the kubelet (1.34, without the
// KubeletEnsureSecretPulledImages gate) neither pulls nor asks. The
// provider answers cacheKeyType Registry, so distinct tags or repositories
// of one registry share one cache entry and would not change the counts;
// all pods pull podidacr.azurecr.io/busybox.
//
// Per mode it starts 20 pods one after another (each Running before the
// next), then 10 at once (pullBurstPods), and reports per phase:
//
//   - execs/pull: provider runs, the kubelet's own
//     kubelet_credential_provider_plugin_duration count (its /metrics,
//     read through the API server's node proxy), and exec-ms their mean
//     duration;
//   - imds-tokens/pull and aad-tokens/pull: tokens the cloud issued
//     (podid_cloud_tokens_issued_total). The provider of a managed-identity
//     node asks IMDS only; Azure AD tokens in the window are other
//     components' (the log names their clients);
//   - exchanges/pull: /oauth2/exchange calls the registry answered, from
//     the cloud's log ("registry refresh token issued" or "registry
//     exchange refused", one line per call);
//   - token-calls/pull: /oauth2/token calls, the access tokens issued
//     (podid_cloud_tokens_issued_total{service="acr"}) plus the refused
//     calls the cloud logs ("registry token refused" with a reason);
//     containerd first POSTs a password grant, which ACR answers 400, then
//     GETs with Basic;
//   - pull-p50-ms and pull-max-ms: the kubelet's "Successfully pulled image
//     … in X" (containerd's pull; it excludes the credential lookup);
//   - start-p50-ms and start-max-ms: pod created to Running as a watch
//     sees it (scheduling, sandbox, credential lookup, pull, start).
//
// Run it with (make bench runs it too):
//
//	go test -run '^$' -bench ACRPullsThroughTheProvider -benchtime=1x -timeout 30m ./test/e2e/
func BenchmarkACRPullsThroughTheProvider(b *testing.B) {
	testenv.RequireRealNodes(b)
	for _, mode := range []struct {
		name string
		// cacheDuration is PODID_ACR_CACHE_DURATION; empty is the
		// provider's default (set anyway, so an ambient value cannot leak in).
		cacheDuration string
	}{
		{name: "cache-on"},
		{name: "cache-off", cacheDuration: "0"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchACRPulls(b, mode.cacheDuration)
			}
		})
	}
}

func benchACRPulls(b *testing.B, cacheDuration string) {
	// Not b.TempDir: under a sub-benchmark's long name the kubelet's unix
	// sockets in the state folder would pass the 107 bytes Linux allows.
	base, err := os.MkdirTemp("", "podid-pull-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(base) })
	dir := filepath.Join(base, "state")
	b.Cleanup(func() { _ = run(b, nil, "down", "--state-dir", dir) })
	up := run(b, []string{acrcred.EnvCacheDuration + "=" + cacheDuration}, "up", "--detach", "--state-dir", dir, "--real-nodes", "1")
	if up.err != nil {
		b.Fatalf("podid up: %v\n%s", up.err, up.stderr)
	}
	rec := readRecord(b, dir)
	if rec.ACR == nil || rec.ACR.ImageRef(image.NameBusybox) == "" {
		b.Fatalf("up.json records no registry with busybox: %+v", rec.ACR)
	}
	ref := rec.ACR.ImageRef(image.NameBusybox)
	cfg, err := kubeclient.Config(rec.Kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	// client-go's default 5 requests/s would hold back the burst's creates
	// and count the wait as start time.
	cfg.QPS, cfg.Burst = 100, 200
	kube := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	m, err := newPullMeter(ctx, kube, rec, filepath.Join(dir, plan.RunDirName, "cloud.log"))
	if err != nil {
		b.Fatal(err)
	}
	start, err := m.read(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("before the first pull: %v", start)

	var serial []pullTiming
	last := start
	for j := 0; j < pullBenchPods; j++ {
		p, err := startPod(ctx, kube, fmt.Sprintf("serial-%d", j), ref)
		if err != nil {
			b.Fatal(err)
		}
		serial = append(serial, p)
		now, err := m.read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d := now.minus(last)
		b.Logf("serial-%d: pulled in %s, Running after %s; +%g provider runs, +%g exchanges, +%g /oauth2/token calls",
			j, p.pull, p.start.Round(time.Millisecond), d.execs, d.exchanges, d.acrTokens+d.tokenRefusals)
		last = now
	}
	report(b, "", serial, start, last)
	if cacheDuration == "0" && last.execs-start.execs < pullBenchPods {
		b.Errorf("%d provider runs for %d pulls although the provider answers cacheDuration 0: did %s=0 reach it?",
			int(last.execs-start.execs), pullBenchPods, acrcred.EnvCacheDuration)
	}

	burst := make([]pullTiming, pullBurstPods)
	errs := make([]error, pullBurstPods)
	var wg sync.WaitGroup
	for j := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			burst[j], errs[j] = startPod(ctx, kube, fmt.Sprintf("burst-%d", j), ref)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	end, err := m.read(ctx)
	if err != nil {
		b.Fatal(err)
	}
	report(b, "burst-", burst, last, end)

	if r := run(b, nil, "down", "--state-dir", dir); r.err != nil {
		b.Fatalf("podid down: %v\n%s", r.err, r.stderr)
	}
	if left := processesUsing(dir); len(left) > 0 {
		b.Errorf("processes left running after podid down:\n%s", strings.Join(left, "\n"))
	}
}

// report prints one phase's figures: the counts between before and after
// divided by its pulls, and its pull and start times.
func report(b *testing.B, prefix string, pulls []pullTiming, before, after pullCounts) {
	n := float64(len(pulls))
	d := after.minus(before)
	b.ReportMetric(n, prefix+"pulls")
	b.ReportMetric(d.execs/n, prefix+"execs/pull")
	if d.execs > 0 {
		b.ReportMetric(d.execSeconds/d.execs*1000, prefix+"exec-ms")
	}
	b.ReportMetric(d.imdsTokens/n, prefix+"imds-tokens/pull")
	b.ReportMetric(d.aadTokens/n, prefix+"aad-tokens/pull")
	b.ReportMetric(d.exchanges/n, prefix+"exchanges/pull")
	b.ReportMetric((d.acrTokens+d.tokenRefusals)/n, prefix+"token-calls/pull")
	var pull, start []time.Duration
	for _, p := range pulls {
		pull, start = append(pull, p.pull), append(start, p.start)
	}
	p50, pmax := medianMax(pull)
	s50, smax := medianMax(start)
	b.ReportMetric(ms(p50), prefix+"pull-p50-ms")
	b.ReportMetric(ms(pmax), prefix+"pull-max-ms")
	b.ReportMetric(ms(s50), prefix+"start-p50-ms")
	b.ReportMetric(ms(smax), prefix+"start-max-ms")
	b.Logf("%s%d pulls: %v", prefix, len(pulls), d)
	if extra := after.aadIssued[len(before.aadIssued):]; len(extra) > 0 {
		// The provider of a managed-identity node asks IMDS only.
		b.Logf("%sAzure AD tokens issued meanwhile, not to the provider: %s", prefix, strings.Join(extra, "; "))
	}
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func medianMax(ds []time.Duration) (median, maximum time.Duration) {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[len(s)-1]
}

// pullTiming is one pod's: the kubelet's pull time (its Pulled event) and
// the time from the create call to the pod Running.
type pullTiming struct {
	pull, start time.Duration
}

// pulledIn reads the pull time from the kubelet's event: Successfully
// pulled image "…" in 96ms (96ms including waiting). Image size: … bytes.
var pulledIn = regexp.MustCompile(`^Successfully pulled image ".*" in (\S+) \(`)

// startPod creates a pod on the real node that pulls ref with
// imagePullPolicy Always, waits until it runs, reads the kubelet's pull
// time and deletes it.
func startPod(ctx context.Context, kube kubernetes.Interface, name, ref string) (pullTiming, error) {
	const ns = "default"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			NodeSelector:                  map[string]string{"podid.dev/node-kind": "real"},
			TerminationGracePeriodSeconds: new(int64),
			Containers: []corev1.Container{{
				Name: "app", Image: ref, ImagePullPolicy: corev1.PullAlways,
				Command: []string{"sh", "-c", "sleep 3600"},
			}},
		},
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	begin := time.Now()
	created, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return pullTiming{}, fmt.Errorf("create pod %s: %w", name, err)
	}
	defer func() { _ = kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}) }()
	w, err := kube.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: created.ResourceVersion})
	if err != nil {
		return pullTiming{}, fmt.Errorf("watch pod %s: %w", name, err)
	}
	defer w.Stop()
	var t pullTiming
	for t.start == 0 {
		select {
		case <-ctx.Done():
			return t, fmt.Errorf("pod %s: not Running within 2 minutes", name)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return t, fmt.Errorf("pod %s: watch closed before the pod ran", name)
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if ev.Type == watch.Error || !isPod {
				return t, fmt.Errorf("pod %s: watch event %s %v", name, ev.Type, ev.Object)
			}
			if p.Status.Phase == corev1.PodRunning {
				t.start = time.Since(begin)
			}
			for _, c := range p.Status.ContainerStatuses {
				if wt := c.State.Waiting; wt != nil && (wt.Reason == "ErrImagePull" || wt.Reason == "ImagePullBackOff") {
					return t, fmt.Errorf("pod %s: %s: %s", name, wt.Reason, wt.Message)
				}
			}
		}
	}
	// The kubelet records events asynchronously; the Pulled one may trail.
	for t.pull == 0 {
		evs, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name + ",reason=Pulled"})
		if err != nil {
			return t, fmt.Errorf("list events of pod %s: %w", name, err)
		}
		for _, ev := range evs.Items {
			if m := pulledIn.FindStringSubmatch(ev.Message); m != nil {
				if t.pull, err = time.ParseDuration(m[1]); err != nil {
					return t, fmt.Errorf("pod %s: the kubelet's Pulled event %q: %w", name, ev.Message, err)
				}
			}
		}
		if t.pull == 0 {
			select {
			case <-ctx.Done():
				return t, fmt.Errorf("pod %s: no Successfully pulled event (did the kubelet pull at all?)", name)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return t, nil
}

// pullCounts are the running totals a pull moves, read at one moment.
type pullCounts struct {
	// execs and execSeconds are the kubelet's provider runs and their total
	// duration; execErrors the runs that failed.
	execs, execSeconds, execErrors float64
	// imdsTokens, aadTokens and acrTokens are tokens the cloud issued:
	// IMDS's and Azure AD's access tokens, and the registry's access tokens
	// (from /oauth2/token).
	imdsTokens, aadTokens, acrTokens float64
	// exchanges are /oauth2/exchange calls answered; tokenRefusals
	// /oauth2/token calls refused. Both are from the cloud's log.
	exchanges, tokenRefusals float64
	// aadIssued are the client and resource of each Azure AD token the
	// cloud's log records, in order.
	aadIssued []string
}

func (c pullCounts) minus(o pullCounts) pullCounts {
	return pullCounts{execs: c.execs - o.execs, execSeconds: c.execSeconds - o.execSeconds, execErrors: c.execErrors - o.execErrors,
		imdsTokens: c.imdsTokens - o.imdsTokens, aadTokens: c.aadTokens - o.aadTokens, acrTokens: c.acrTokens - o.acrTokens,
		exchanges: c.exchanges - o.exchanges, tokenRefusals: c.tokenRefusals - o.tokenRefusals}
}

func (c pullCounts) String() string {
	return fmt.Sprintf("provider runs %g (%g failed), IMDS tokens %g, Azure AD tokens %g, exchanges %g, registry access tokens %g, /oauth2/token refusals %g",
		c.execs, c.execErrors, c.imdsTokens, c.aadTokens, c.exchanges, c.acrTokens, c.tokenRefusals)
}

// pullMeter reads pullCounts from the real node's kubelet, the cloud's
// /metrics and the cloud's log.
type pullMeter struct {
	kube     kubernetes.Interface
	node     string
	cloud    *http.Client
	cloudURL string
	cloudLog string
}

func newPullMeter(ctx context.Context, kube kubernetes.Interface, rec *plan.Record, cloudLog string) (*pullMeter, error) {
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "podid.dev/node-kind=real"})
	if err != nil {
		return nil, fmt.Errorf("list the real nodes: %w", err)
	}
	if len(nodes.Items) != 1 {
		return nil, fmt.Errorf("%d real nodes, want 1", len(nodes.Items))
	}
	ca, err := os.ReadFile(rec.CloudCA)
	if err != nil {
		return nil, fmt.Errorf("read the cloud's CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("the cloud's CA %s holds no PEM certificate", rec.CloudCA)
	}
	cloud := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	return &pullMeter{kube: kube, node: nodes.Items[0].Name, cloud: cloud, cloudURL: rec.CloudURL, cloudLog: cloudLog}, nil
}

func (m *pullMeter) read(ctx context.Context) (pullCounts, error) {
	var c pullCounts
	raw, err := m.kube.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", m.node, "proxy", "metrics").DoRaw(ctx)
	if err != nil {
		return c, fmt.Errorf("read the kubelet's /metrics of node %s: %w", m.node, err)
	}
	kubelet, err := metricFamilies(raw)
	if err != nil {
		return c, fmt.Errorf("kubelet of node %s: %w", m.node, err)
	}
	provider := map[string]string{"plugin_name": "acr-credential-provider"}
	for _, s := range kubelet["kubelet_credential_provider_plugin_duration"].GetMetric() {
		if hasLabels(s, provider) {
			c.execs, c.execSeconds = float64(s.GetHistogram().GetSampleCount()), s.GetHistogram().GetSampleSum()
		}
	}
	for _, s := range kubelet["kubelet_credential_provider_plugin_errors_total"].GetMetric() {
		if hasLabels(s, provider) {
			c.execErrors = s.GetCounter().GetValue()
		}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.cloudURL+"/metrics", nil)
	if err != nil {
		return c, fmt.Errorf("read the cloud's /metrics: %w", err)
	}
	resp, err := m.cloud.Do(req)
	if err != nil {
		return c, fmt.Errorf("read the cloud's /metrics: %w", err)
	}
	var page bytes.Buffer
	_, err = page.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return c, fmt.Errorf("read the cloud's /metrics: %w", err)
	}
	cloud, err := metricFamilies(page.Bytes())
	if err != nil {
		return c, fmt.Errorf("the cloud: %w", err)
	}
	for _, s := range cloud["podid_cloud_tokens_issued_total"].GetMetric() {
		for service, into := range map[string]*float64{"imds": &c.imdsTokens, "aad": &c.aadTokens, "acr": &c.acrTokens} {
			if hasLabels(s, map[string]string{"service": service}) {
				*into = s.GetCounter().GetValue()
			}
		}
	}

	// The registry's exchanges and refusals are counted by no metric, but
	// the cloud logs each once at Info.
	log, err := os.ReadFile(m.cloudLog)
	if err != nil {
		return c, fmt.Errorf("read the cloud's log: %w", err)
	}
	for _, line := range strings.Split(string(log), "\n") {
		switch {
		case strings.Contains(line, "registry refresh token issued"), strings.Contains(line, "registry exchange refused"):
			c.exchanges++
		case strings.Contains(line, "registry token refused") && strings.Contains(line, "reason="):
			// Refused at /oauth2/token; the same message with error= is a
			// /v2/ request whose bearer token failed.
			c.tokenRefusals++
		case strings.Contains(line, `msg="token issued"`):
			c.aadIssued = append(c.aadIssued, logFields(line, "client", "resource"))
		}
	}
	return c, nil
}

// logFields picks key=value pairs out of a text log line.
func logFields(line string, keys ...string) string {
	var out []string
	for _, f := range strings.Fields(line) {
		for _, k := range keys {
			if strings.HasPrefix(f, k+"=") {
				out = append(out, f)
			}
		}
	}
	return strings.Join(out, " ")
}

func metricFamilies(page []byte) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	return families, nil
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}
