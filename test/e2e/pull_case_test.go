package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/testenv"
)

// pullCase drives pods on the real node of a podid up run and podid
// doctor on them: every TestPullDoctor* test's steps.
type pullCase struct {
	t   *testing.T
	rec *plan.Record
	k   func(args ...string) (string, error)
	// kubectlDir holds the kubectl the doctor's fixes run.
	kubectlDir string
}

func newPullCase(t *testing.T, rec *plan.Record) *pullCase {
	t.Helper()
	out, err := exec.Command("bash", "../../hack/k8s-bin.sh", "kubectl").Output()
	if err != nil {
		t.Fatalf("build kubectl: %v", err)
	}
	return &pullCase{t: t, rec: rec, k: kubectl(t, rec.Kubeconfig), kubectlDir: strings.TrimSpace(string(out))}
}

// apply creates the pod in manifest and deletes it when the test ends.
func (pc *pullCase) apply(pod, manifest string) {
	t := pc.t
	t.Helper()
	f := filepath.Join(t.TempDir(), pod+".yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := pc.k("apply", "-f", f); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", f, err, out)
	}
	t.Cleanup(func() { _, _ = pc.k("delete", "pod", pod, "--grace-period=1", "--wait=false") })
}

// failed waits for the kubelet's Failed event on pod that carries text,
// and returns it.
func (pc *pullCase) failed(pod, text string) string {
	pc.t.Helper()
	return pc.failedWithin(pod, text, 0)
}

// failedWithin is failed for a failure that takes up to timeout to come;
// 0 is waitFor's 90 seconds.
func (pc *pullCase) failedWithin(pod, text string, timeout time.Duration) string {
	t := pc.t
	t.Helper()
	start, msg := time.Now(), ""
	what := "the kubelet's Failed event with " + text + " for pod " + pod
	check := func(context.Context) error {
		if msg = podEvent(t, pc.k, pod, "Failed", text); msg == "" {
			return errors.New("no such event yet")
		}
		return nil
	}
	if timeout == 0 {
		waitFor(t, what, check)
	} else {
		waitWithin(t, what, timeout, check)
	}
	t.Logf("%s: %s to the kubelet's event: Failed: %s", pod, time.Since(start).Round(time.Millisecond), msg)
	return msg
}

// doctor runs podid doctor on the pod, checks that it fails and prints
// every want, and returns its output.
func (pc *pullCase) doctor(pod string, want ...string) string {
	t := pc.t
	t.Helper()
	args := []string{"doctor", "--state-dir", pc.rec.StateDir, "--pod", "default/" + pod}
	r := run(t, nil, args...)
	t.Logf("$ podid %s (%s, %v)\n%s", strings.Join(args, " "), r.took.Round(time.Millisecond), r.err, r.stdout)
	if r.err == nil {
		t.Errorf("podid doctor exited 0 on a pod that cannot pull")
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("podid doctor --pod default/%s does not print %q", pod, w)
		}
	}
	return r.stdout
}

// running waits for pod to run and logs how long it took.
func (pc *pullCase) running(pod string) {
	t := pc.t
	t.Helper()
	start := time.Now()
	waitWithin(t, "pod "+pod+" to run", 2*time.Minute, func(context.Context) error {
		out, err := pc.k("get", "pod", pod, "-o", "jsonpath={.status.phase}")
		if err != nil || out != "Running" {
			return fmt.Errorf("phase %q (%v)", out, err)
		}
		return nil
	})
	t.Logf("%s: Running %s after the fix; kubelet: Pulled: %s", pod, time.Since(start).Round(time.Millisecond), podEvent(t, pc.k, pod, "Pulled", ""))
}

// shell runs a command line the doctor printed, with the run's kubectl
// and kubeconfig. Its text may hold a secret, so only its output is shown.
func (pc *pullCase) shell(line string) {
	t := pc.t
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", line)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+pc.rec.Kubeconfig, "PATH="+pc.kubectlDir+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the doctor's fix failed: %v\n%s", err, out)
	}
	t.Logf("the doctor's fix:\n%s", out)
}

// upWithARealNodeArgs is upWithARealNode with more podid up arguments.
func upWithARealNodeArgs(t *testing.T, extra ...string) (result, *plan.Record) {
	t.Helper()
	testenv.RequireRealNodes(t)
	// Not t.TempDir: a long test name makes the kubelet's unix sockets
	// under the state folder longer than a socket path may be.
	parent, err := os.MkdirTemp("", "podid-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
		_ = os.RemoveAll(parent)
	})
	up := must(t, append([]string{"up", "--detach", "--state-dir", dir, "--real-nodes", "1"}, extra...)...)
	rec := readRecord(t, dir)
	t.Logf("podid up --detach --real-nodes 1 %s took %s (ready after %.1fs)", strings.Join(extra, " "), up.took.Round(time.Millisecond), rec.StartSeconds)
	return up, rec
}
