package failover

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/proc"
	"github.com/podid/podid/internal/testenv"
)

const leaseNamespace = "default"

func TestStandbyTakesOverWhenTheLeaderDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := testenv.StartT(t, testenv.Options{Nodes: 2})
	mic, ns := buildMIC(t), bindApp(ctx, t, env)

	a := startMIC(t, env, mic, "a")
	leader := waitLeader(ctx, t, env, "")
	b := startMIC(t, env, mic, "b")
	runPods(ctx, t, env, ns, 0, 20)
	waitAssigned(ctx, t, env, ns, 20, time.Minute)

	// Kill the leader as a crash would: no chance to release the lease.
	byName := map[string]*proc.Process{"a": a, "b": b}
	killed := byName[leader]
	if killed == nil {
		t.Fatalf("leader %q is neither mic a nor mic b", leader)
	}
	killedAt := time.Now()
	if err := killed.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	runPods(ctx, t, env, ns, 20, 20) // work arrives while nobody leads
	next := waitLeader(ctx, t, env, leader)
	took := time.Since(killedAt)
	t.Logf("mic %s took over %s after mic %s was killed", next, took.Round(100*time.Millisecond), leader)
	if took > 20*time.Second {
		t.Errorf("takeover took %s, want at most 20s", took)
	}
	waitAssigned(ctx, t, env, ns, 40, time.Minute)
}

// TestLeaderKilledMidBurst kills the leading mic while a burst of 1,000
// pods is being assigned: the standby must finish the burst with exactly
// one assignment per pod, none lost, none duplicated.
func TestLeaderKilledMidBurst(t *testing.T) {
	const pods = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := testenv.StartT(t, testenv.Options{Nodes: 4})
	mic, ns := buildMIC(t), bindApp(ctx, t, env)
	byName := map[string]*proc.Process{"a": startMIC(t, env, mic, "a")}
	leader := waitLeader(ctx, t, env, "")
	byName["b"] = startMIC(t, env, mic, "b")

	created := make(chan error, 1)
	go func() { created <- env.CreatePods(ctx, podSpecs(env, ns, 0, pods), 8) }()
	// Kill the leader once a quarter of the burst has assignments.
	var seen int
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var list podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		seen = len(list.Items)
		return seen >= pods/4, nil
	})
	if err != nil {
		t.Fatalf("mic %s wrote only %d assignments: %v", leader, seen, err)
	}
	killedAt := time.Now()
	if err := byName[leader].Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	next := waitLeader(ctx, t, env, leader)
	t.Logf("mic %s killed with %d of %d assignments written; mic %s led %s later", leader, seen, pods, next, time.Since(killedAt).Round(100*time.Millisecond))
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	waitAssigned(ctx, t, env, ns, pods, 3*time.Minute)
	t.Logf("all %d pods Assigned once, %s after the kill", pods, time.Since(killedAt).Round(100*time.Millisecond))
}

// bindApp makes a namespace with an identity whose binding selects the
// pods labelled "app", and returns its name.
func bindApp(ctx context.Context, t *testing.T, env *testenv.Env) string {
	t.Helper()
	ns := env.NewNamespace(t)
	create(ctx, t, env,
		&podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "id"},
			Spec: podidv1.AzureIdentitySpec{ClientID: "248b3285-aa4c-436f-b0da-8ab35ba2d14a"}},
		&podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"},
			Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: "id", Selector: "app"}})
	return ns
}

func buildMIC(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "mic")
	cmd := exec.Command("go", "build", "-o", out, "github.com/podid/podid/cmd/mic")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build mic: %v\n%s", err, b)
	}
	return out
}

func startMIC(t *testing.T, env *testenv.Env, bin, name string) *proc.Process {
	t.Helper()
	p, err := proc.Start(proc.Spec{
		Name: "mic-" + name,
		Path: bin,
		Args: []string{
			"--kubeconfig=" + env.ControlPlane.Kubeconfig,
			"--leader-election-namespace=" + leaseNamespace,
			"--metrics-bind-address=0", "--health-probe-bind-address=0",
			"--leader-election-identity=" + name,
		},
		LogFile: filepath.Join(env.Dir, "mic-"+name+".log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(5 * time.Second) })
	return p
}

// waitLeader waits for a lease holder other than not, and returns it.
func waitLeader(ctx context.Context, t *testing.T, env *testenv.Env, not string) string {
	t.Helper()
	var holder string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		var l coordinationv1.Lease
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: leaseNamespace, Name: controller.LeaderElectionID}, &l); err != nil {
			return false, nil
		}
		if l.Spec.HolderIdentity == nil {
			return false, nil
		}
		holder = *l.Spec.HolderIdentity
		return holder != "" && holder != not, nil
	})
	if err != nil {
		t.Fatalf("no new leader (holder %q): %v", holder, err)
	}
	return holder
}

func runPods(ctx context.Context, t *testing.T, env *testenv.Env, ns string, from, n int) {
	t.Helper()
	if err := env.CreatePods(ctx, podSpecs(env, ns, from, n), 8); err != nil {
		t.Fatal(err)
	}
}

// podSpecs are n labelled pods numbered from from, spread over the nodes.
func podSpecs(env *testenv.Env, ns string, from, n int) []*corev1.Pod {
	var pods []*corev1.Pod
	for i := from; i < from+n; i++ {
		pods = append(pods, testenv.Pod(testenv.PodSpec{Namespace: ns, Name: fmt.Sprintf("p-%04d", i),
			Node: env.Nodes[i%len(env.Nodes)].Name, Labels: map[string]string{podidv1.SelectorLabel: "app"}}))
	}
	return pods
}

// waitAssigned waits up to limit for exactly one Assigned assignment per
// pod; a pod with two fails at once.
func waitAssigned(ctx context.Context, t *testing.T, env *testenv.Env, ns string, pods int, limit time.Duration) {
	t.Helper()
	var assigned, total int
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, limit, true, func(ctx context.Context) (bool, error) {
		var list podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		assigned, total = 0, len(list.Items)
		perPod := map[string]int{}
		for _, a := range list.Items {
			perPod[a.Spec.Pod]++
			if a.Status.Status == podidv1.AssignedIDAssigned {
				assigned++
			}
		}
		for pod, n := range perPod {
			if n > 1 {
				return false, fmt.Errorf("pod %s has %d assignments of one identity", pod, n)
			}
		}
		return assigned == pods && total == pods, nil
	})
	if err != nil {
		t.Fatalf("%d of %d assignments Assigned (%d objects) for %d pods: %v", assigned, total, total, pods, err)
	}
}

func create(ctx context.Context, t *testing.T, env *testenv.Env, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}
