package realnode

import (
	"context"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/testenv"
)

// A real node registers, pulls the seeds' image names from podid's
// registry, runs a pod in its own network namespace with an address of the
// node's pod CIDR, serves its log through the kubelet, and its teardown
// leaves no process, mount, link, namespace, chain or cgroup behind.
func TestRealNodeRunsPodsAndLeavesNothingBehind(t *testing.T) {
	testenv.RequireRealNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := testenv.Snapshot(t)

	env, err := testenv.Start(ctx, testenv.Options{RealNodes: 1, Images: []string{image.NameBusybox}})
	if err != nil {
		t.Fatalf("start a cluster with a real node: %v", err)
	}
	dir := env.Dir
	stopped := false
	defer func() {
		if !stopped {
			env.Stop()
		}
	}()
	cfg := env.RealNodes[0].Config()

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: testenv.RealNodeName(0),
			Containers: []corev1.Container{{
				Name: "busybox", Image: "busybox", ImagePullPolicy: corev1.PullAlways,
				Command: []string{"sh", "-c", "echo hello from a real node; sleep 3600"},
			}},
		},
	}
	if _, err := env.Kube.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err = env.Kube.CoreV1().Pods("default").Get(ctx, "hello", metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("pod not Running on the real node (status %+v; kubelet log %s): %v", got.Status, cfg.KubeletLog(), err)
	}
	ip, err := netip.ParseAddr(got.Status.PodIP)
	if err != nil || !cfg.PodCIDR.Contains(ip) || ip == cfg.NodeIP {
		t.Errorf("pod IP %q: want an address of the node's pod CIDR %s other than the node's own", got.Status.PodIP, cfg.PodCIDR)
	}
	if got.Status.HostIP != cfg.NodeIP.String() {
		t.Errorf("host IP %q: want the node IP %s", got.Status.HostIP, cfg.NodeIP)
	}
	var logs string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		rc, err := env.Kube.CoreV1().Pods("default").GetLogs("hello", &corev1.PodLogOptions{}).Stream(ctx)
		if err != nil {
			return false, nil
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		logs = string(b)
		return strings.Contains(logs, "hello from a real node"), nil
	})
	if err != nil {
		t.Fatalf("container log through the kubelet: got %q: %v", logs, err)
	}
	if len(testenv.Snapshot(t).Netns) <= len(before.Netns) {
		t.Errorf("the pod has no network namespace of its own")
	}

	env.Stop()
	stopped = true
	if left := testenv.ProcessesUnder(t, dir); len(left) > 0 {
		t.Errorf("processes left behind:\n%s", strings.Join(left, "\n"))
	}
	if d := testenv.Diff(before, testenv.Snapshot(t)); len(d) > 0 {
		t.Errorf("the machine differs after teardown:\n%s", strings.Join(d, "\n"))
	}
}

// Cleanup removes what a node killed without teardown left (its
// supervisor SIGKILLed: containerd and the kubelet die with it, the shims
// and containers do not), so the next start finds a clean machine.
func TestCleanupAfterACrashLeavesNothingBehind(t *testing.T) {
	testenv.RequireRealNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := testenv.Snapshot(t)
	env, err := testenv.Start(ctx, testenv.Options{RealNodes: 1, Images: []string{image.NameBusybox}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	n := env.RealNodes[0]
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: n.Name(), Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "3600"}}}},
	}
	if _, err := env.Kube.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := env.Kube.CoreV1().Pods("default").Get(ctx, "survivor", metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The crash: containerd and the kubelet die, nothing is torn down.
	for _, p := range n.Processes() {
		_ = p.Signal(syscall.SIGKILL)
		<-p.Done()
	}
	env.RealNodes = nil
	if len(testenv.ProcessesUnder(t, env.Dir)) == 0 {
		t.Fatal("the crash left nothing running; the test would prove nothing")
	}
	if err := node.Cleanup(ctx, n.Config().Layout, nil); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	env.Stop()
	if left := testenv.ProcessesUnder(t, env.Dir); len(left) > 0 {
		t.Errorf("processes left behind:\n%s", strings.Join(left, "\n"))
	}
	if d := testenv.Diff(before, testenv.Snapshot(t)); len(d) > 0 {
		t.Errorf("the machine differs after cleanup:\n%s", strings.Join(d, "\n"))
	}
}
