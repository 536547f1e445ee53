package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/podid/podid/internal/image"
)

// acrPod is a pod on the real node running the given image from the ACR;
// pullPolicy Always makes every start ask the registry again.
func acrPod(name, image string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: default
spec:
  nodeSelector:
    podid.dev/node-kind: real
  containers:
    - name: app
      image: %s
      imagePullPolicy: Always
      command: ["sh", "-c", "echo pulled from ACR; sleep 3600"]
`, name, image)
}

// Issue 15 item 5 as a user walks it: podid up --real-nodes pushes the
// images it builds into the built-in world's registry, which the kubelet
// identity is attached to; a pod naming podidacr.azurecr.io/busybox runs
// on the real node. Detaching the registry (seed 000) leaves the next pod
// in ErrImagePull with the kubelet's 401; podid check-acr, run as podid
// up's hint prints it, says FAIL and how to fix it; attaching again and the
// same pod runs on the kubelet's next retry.
func TestRealNodePullsFromTheAttachedACR(t *testing.T) {
	up, rec := upWithARealNode(t)
	if rec.ACR == nil || rec.ACR.LoginServer != "podidacr.azurecr.io" {
		t.Fatalf("up.json records no registry podidacr.azurecr.io: %+v", rec.ACR)
	}
	ref := rec.ACR.ImageRef(image.NameBusybox)
	check := hintArgs(t, up.stdout, "podid check-acr ")
	detach := hintArgs(t, up.stdout, "podid cloud acr detach ")
	t.Logf("podid up's hint: podid %s", strings.Join(check, " "))
	t.Logf("podid up's hint: podid %s", strings.Join(detach, " "))
	k := kubectl(t, rec.Kubeconfig)
	apply := func(name string) {
		t.Helper()
		f := filepath.Join(t.TempDir(), name+".yaml")
		if err := os.WriteFile(f, []byte(acrPod(name, ref)), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := k("apply", "-f", f); err != nil {
			t.Fatalf("kubectl apply -f %s: %v\n%s", f, err, out)
		}
	}
	running := func(pod string) func(context.Context) error {
		return func(context.Context) error {
			out, err := k("get", "pod", pod, "-o", "jsonpath={.status.phase} {.spec.nodeName}")
			if err != nil || !strings.HasPrefix(out, "Running ") {
				return fmt.Errorf("pod %s: %q (%v)", pod, out, err)
			}
			return nil
		}
	}

	// Attached, as the built-in world has it: the pod runs.
	start := time.Now()
	apply("attached")
	waitFor(t, "the pod pulling "+ref+" to run on the real node", running("attached"))
	pulled := podEvent(t, k, "attached", "Pulled", ref)
	t.Logf("attached: pod Running %s after kubectl apply; kubelet: Pulled: %s", time.Since(start).Round(time.Millisecond), pulled)
	if logs, _ := k("logs", "attached"); !strings.Contains(logs, "pulled from ACR") {
		t.Errorf("the pod's log lacks its output: %q", logs)
	}

	// Detached: the kubelet identity's pull gets 401.
	out := must(t, detach...)
	t.Logf("$ podid %s\n%s", strings.Join(detach, " "), out.stdout)
	start = time.Now()
	apply("detached")
	var failed string
	waitFor(t, "the kubelet's 401 for the new pod", func(context.Context) error {
		failed = podEvent(t, k, "detached", "Failed", "401 Unauthorized")
		if failed == "" {
			return errors.New("no Failed event with 401 Unauthorized yet")
		}
		return nil
	})
	t.Logf("detached: %s to the kubelet's event: Failed: %s", time.Since(start).Round(time.Millisecond), failed)
	if !strings.Contains(failed, "failed to authorize") {
		t.Errorf("the 401 does not say the registry refused the credentials: %s", failed)
	}
	waitFor(t, "the pod to wait in ErrImagePull or ImagePullBackOff", func(context.Context) error {
		reason, _ := k("get", "pod", "detached", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")
		if reason != "ErrImagePull" && reason != "ImagePullBackOff" {
			return fmt.Errorf("waiting reason %q", reason)
		}
		t.Logf("detached: pod waiting with reason %s", reason)
		return nil
	})

	// podid check-acr, as the hint prints it, says why and what to do.
	r := run(t, nil, check...)
	t.Logf("$ podid %s (%s, %v)\n%s", strings.Join(check, " "), r.took.Round(time.Millisecond), r.err, r.stdout)
	// The node knows the kubelet identity by its IDs, so the fix names it so.
	attach := "fix:   podid cloud acr attach --registry " + rec.ACR.Registry + " --principal "
	if r.err == nil || !strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, attach) {
		t.Errorf("check-acr on a detached registry: err %v; want FAIL and the fix %q:\n%s%s", r.err, attach, r.stdout, r.stderr)
	}

	// Attached again: the same pod runs on the kubelet's next retry, which
	// image pull back-off may put minutes away.
	attachArgs := append([]string{"cloud", "acr", "attach"}, detach[3:]...)
	out = must(t, attachArgs...)
	t.Logf("$ podid %s\n%s", strings.Join(attachArgs, " "), out.stdout)
	start = time.Now()
	waitWithin(t, "the detached pod to run after attach", 6*time.Minute, running("detached"))
	t.Logf("attached again: pod Running %s later; kubelet: Pulled: %s", time.Since(start).Round(time.Millisecond), podEvent(t, k, "detached", "Pulled", ref))
	if r := run(t, nil, check...); r.err != nil || strings.Contains(r.stdout, "FAIL") {
		t.Errorf("check-acr after attach: %v\n%s", r.err, r.stdout)
	} else {
		t.Logf("check-acr after attach (%s): %s", r.took.Round(time.Millisecond), lastLines(r.stdout, 1))
	}
}

// hintArgs finds the next-commands line of podid up's output that starts
// with prefix and returns its arguments, without podid and the comment.
func hintArgs(t *testing.T, stdout, prefix string) []string {
	t.Helper()
	for _, line := range strings.Split(stdout, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, prefix) {
			line, _, _ = strings.Cut(line, "#")
			return strings.Fields(line)[1:]
		}
	}
	t.Fatalf("podid up printed no %q line:\n%s", prefix, stdout)
	return nil
}

// podEvent is the message of the pod's latest event with reason whose
// message contains text, or "".
func podEvent(t *testing.T, k func(...string) (string, error), pod, reason, text string) string {
	t.Helper()
	out, _ := k("get", "events", "--field-selector", "involvedObject.name="+pod+",reason="+reason,
		"--sort-by=.lastTimestamp", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
	found := ""
	for _, msg := range strings.Split(out, "\n") {
		if msg != "" && strings.Contains(msg, text) {
			found = msg
		}
	}
	return found
}

// waitWithin polls check until it passes or timeout ends.
func waitWithin(t *testing.T, what string, timeout time.Duration, check func(context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting %s for %s: %v", timeout, what, last)
	}
}
