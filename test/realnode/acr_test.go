package realnode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/testenv"
)

// acrWorld is an AKS node resource group: the node pool's scale set
// carrying the kubelet identity. The registry is added by the test.
const acrWorld = `
tenants:
  - id: 11111111-0000-0000-0000-000000000001
    subscriptions:
      - id: 22222222-0000-0000-0000-000000000001
        resourceGroups:
          - name: MC_rg
            location: westus2
            identities:
              - name: aks-system-agentpool
            scaleSets:
              - {name: aks-system-vmss, capacity: 1, identities: [aks-system-agentpool]}
`

// Seed 001's first failure on a real node: a registry the cluster is not
// attached to answers the kubelet identity's pull with 401, the pod sits in
// ErrImagePull/ImagePullBackOff with containerd's own words in the kubelet's
// event; `acr attach` (AcrPull for the kubelet identity) and the same pod
// runs on the kubelet's next retry. The credentials containerd presents are
// the credential provider's: the registry refuses anonymous pulls and names
// the kubelet identity when it refuses the token. A wrong tag is NotFound.
// Nothing of the machine changes: no /etc/hosts entry, no trusted CA.
func TestKubeletPullsFromACRThroughTheCredentialProvider(t *testing.T) {
	testenv.RequireRealNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	before := testenv.Snapshot(t)
	etcBefore := etcDigest(t)
	podid := buildPodid(t)

	// The cloud, with a log the test reads.
	w, err := world.Parse("world.yaml", []byte(acrWorld))
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	var cloudLog lockedBuffer
	c, err := cloud.Start(ctx, cloud.Options{Seed: st, StateDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&cloudLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frontDoor, err := c.LoopbackFrontDoor()
	if err != nil {
		t.Fatal(err)
	}
	snap := c.Snapshot()
	var kubelet cloud.Identity
	for _, i := range snap.Identities {
		if i.Name == "aks-system-agentpool" {
			kubelet = *i
		}
	}
	instances := c.Instances()
	if kubelet.ClientID == "" || len(instances) != 1 {
		t.Fatalf("world: kubelet identity %+v, instances %+v", kubelet, instances)
	}
	vmssID := instances[0].MachineID

	// The registry, not attached, holding busybox:1.
	reg, err := c.PutRegistry(cloud.RegistrySpec{SubscriptionID: kubelet.SubscriptionID, ResourceGroup: kubelet.ResourceGroup, Name: "podidacr", SKU: "Standard"})
	if err != nil {
		t.Fatal(err)
	}
	pushBusybox(ctx, t, c, reg.Name)
	ref := reg.LoginServer() + "/busybox:1"

	env, err := testenv.Start(ctx, testenv.Options{
		RealNodes:  1,
		ProviderID: func(int) string { return "azure://" + vmssID + "/virtualMachines/0" },
		RealNodeACR: func(int) *node.ACR {
			return &node.ACR{
				Executable: podid, TenantID: kubelet.TenantID, KubeletClientID: kubelet.ClientID,
				SubscriptionID: kubelet.SubscriptionID, ResourceGroup: kubelet.ResourceGroup, Location: "westus2",
				IMDSEndpoint: instances[0].IMDSURL, AuthorityHost: c.AuthorityURL(), CAFile: c.CAPath(),
				FrontDoor: frontDoor, FrontDoorNames: cloud.AzureNames(), LoginServers: []string{reg.LoginServer()},
			}
		},
	})
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
	kubeletLog := env.RealNodes[0].Config().KubeletLog()

	defer func() {
		if t.Failed() {
			dumpNode(t, env.RealNodes[0].Config().Dir)
		}
	}()

	// Detached: 401, in the kubelet's words.
	createPod(ctx, t, env, "app", ref)
	failed := waitEvent(ctx, t, env, "app", "Failed", "401 Unauthorized", 2*time.Minute)
	t.Logf("detached, the kubelet's event: Failed: %s", failed)
	if !strings.Contains(failed, "failed to authorize") {
		t.Errorf("the 401 event does not say it failed to authorize: %s", failed)
	}
	waitEvent(ctx, t, env, "app", "BackOff", "Back-off pulling image", 2*time.Minute)
	if reason := waitingReason(ctx, t, env, "app"); reason != "ErrImagePull" && reason != "ImagePullBackOff" {
		t.Errorf("waiting reason %q, want ErrImagePull or ImagePullBackOff", reason)
	}
	refused := regexp.MustCompile(`registry token refused.*registry=podidacr principal=` + kubelet.PrincipalID + ` anonymous=false`)
	if !refused.MatchString(cloudLog.String()) {
		t.Errorf("the registry never refused the kubelet identity %s; the runtime did not present the provider's credentials. Cloud log:\n%s", kubelet.PrincipalID, cloudLog.String())
	}

	// Attach (what podid cloud acr attach does) and the same pod runs.
	if _, err := c.GrantRole(kubelet.PrincipalID, "AcrPull", reg.ID); err != nil {
		t.Fatal(err)
	}
	attached := time.Now()
	var got *corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err = env.Kube.CoreV1().Pods("default").Get(ctx, "app", metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("pod not Running after attach (status %+v; kubelet log %s): %v", got.Status, kubeletLog, err)
	}
	pulled := waitEvent(ctx, t, env, "app", "Pulled", "Successfully pulled image", 30*time.Second)
	t.Logf("attached, Running %s later; the kubelet's event: Pulled: %s", time.Since(attached).Round(time.Second), pulled)

	// A wrong tag: NotFound.
	createPod(ctx, t, env, "wrong-tag", reg.LoginServer()+"/busybox:nope")
	notFound := waitEvent(ctx, t, env, "wrong-tag", "Failed", "not found", 2*time.Minute)
	t.Logf("wrong tag, the kubelet's event: Failed: %s", notFound)

	// The provider, not anything else, answered: its link and config are
	// what the kubelet runs.
	if b, err := os.ReadFile(kubeletLog); err == nil && bytes.Contains(b, []byte("Failed getting credential from external registry credential provider")) {
		t.Errorf("the kubelet could not run the credential provider; see %s", kubeletLog)
	}

	env.Stop()
	stopped = true
	if left := testenv.ProcessesUnder(t, dir); len(left) > 0 {
		t.Errorf("processes left behind:\n%s", strings.Join(left, "\n"))
	}
	if d := testenv.Diff(before, testenv.Snapshot(t)); len(d) > 0 {
		t.Errorf("the machine differs after teardown:\n%s", strings.Join(d, "\n"))
	}
	if after := etcDigest(t); after != etcBefore {
		t.Errorf("/etc/hosts or the trust store changed: %s, before %s", after, etcBefore)
	}
}

// dumpNode logs the node's registry and provider files and what its
// containerd said about the registry, for a failed run.
func dumpNode(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "containerd", "hosts.d", "*", "*"))
	files = append(files, filepath.Join(dir, "credential-provider", "config.yaml"), filepath.Join(dir, "azure.json"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		t.Logf("%s:\n%s", f, b)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "azurecr") {
			t.Log(line)
		}
	}
}

// buildPodid builds the podid the kubelet runs as its credential provider.
func buildPodid(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "podid")
	start := time.Now()
	if b, err := exec.Command("go", "build", "-o", out, "github.com/podid/podid/cmd/podid").CombinedOutput(); err != nil {
		t.Fatalf("build podid: %v\n%s", err, b)
	}
	t.Logf("built podid in %s", time.Since(start).Round(time.Millisecond))
	return out
}

// pushBusybox builds the catalog's busybox for this machine and pushes it
// to the registry as busybox:1.
func pushBusybox(ctx context.Context, t *testing.T, c *cloud.Cloud, registry string) {
	t.Helper()
	wd, _ := os.Getwd()
	root, err := image.FindModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := image.Lookup(image.NameBusybox)
	if err != nil {
		t.Fatal(err)
	}
	built, err := image.Build(ctx, image.Options{ModuleRoot: root, Platforms: []v1.Platform{image.HostPlatform()}}, specs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PushIndex(registry, "busybox", "1", built.Index); err != nil {
		t.Fatal(err)
	}
}

func createPod(ctx context.Context, t *testing.T, env *testenv.Env, name, ref string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: testenv.RealNodeName(0),
			Containers: []corev1.Container{{
				Name: "app", Image: ref, Command: []string{"sh", "-c", "echo pulled from ACR; sleep 3600"},
			}},
		},
	}
	if _, err := env.Kube.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitEvent waits for an event of pod with reason whose message contains
// text, and returns the message.
func waitEvent(ctx context.Context, t *testing.T, env *testenv.Env, pod, reason, text string, timeout time.Duration) string {
	t.Helper()
	var seen []string
	var msg string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := env.Kube.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod})
		if err != nil {
			return false, nil
		}
		seen = seen[:0]
		for _, ev := range list.Items {
			seen = append(seen, ev.Reason+": "+ev.Message)
			if ev.Reason == reason && strings.Contains(ev.Message, text) {
				msg = ev.Message
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no %s event containing %q on pod %s; events:\n%s", reason, text, pod, strings.Join(seen, "\n"))
	}
	return msg
}

func waitingReason(ctx context.Context, t *testing.T, env *testenv.Env, pod string) string {
	t.Helper()
	var reason string
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := env.Kube.CoreV1().Pods("default").Get(ctx, pod, metav1.GetOptions{})
		if err != nil || len(got.Status.ContainerStatuses) == 0 || got.Status.ContainerStatuses[0].State.Waiting == nil {
			return false, nil
		}
		reason = got.Status.ContainerStatuses[0].State.Waiting.Reason
		return reason == "ErrImagePull" || reason == "ImagePullBackOff", nil
	})
	return reason
}

// etcDigest hashes /etc/hosts and the names in the machine's trust store.
func etcDigest(t *testing.T) string {
	t.Helper()
	h := sha256.New()
	b, _ := os.ReadFile("/etc/hosts")
	h.Write(b)
	for _, dir := range []string{"/etc/ssl/certs", "/usr/local/share/ca-certificates"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fmt.Fprintln(h, dir, e.Name())
		}
	}
	b, _ = os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// lockedBuffer is a bytes.Buffer safe for the cloud's concurrent logging.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
