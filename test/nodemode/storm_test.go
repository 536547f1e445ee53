package nodemode

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/podid/podid/internal/cloud/faults"
)

// The worker's rules these tests hold it to (internal/cloudassign): after
// a 429 no call before Retry-After, and after the k-th failed burst in a
// row none for min(1 s·2^(k-1), the resync period), whatever pods change
// meanwhile; a burst is one GET, then one PATCH that carries every change
// pending on the machine (up to 150).
const (
	micResync  = 2 * time.Second // opts.Cloud.Resync in main_test.go
	minBackoff = time.Second
	// gapSlack covers the call clock's sampling on both ends of a gap.
	gapSlack = 2*sampleEvery + 40*time.Millisecond
	// afterRecovery is the window whose calls must not make a storm.
	afterRecovery = 10 * time.Second
)

func backoffAfter(k int) time.Duration { return min(minBackoff<<(k-1), micResync) }

// checkGaps fails t when a call came sooner after the one before than
// least(k) allows, k counting the failed calls so far (from 1).
func checkGaps(t *testing.T, what string, calls []time.Time, least func(k int) time.Duration) {
	t.Helper()
	for k := 1; k < len(calls); k++ {
		if gap := calls[k].Sub(calls[k-1]); gap < least(k)-gapSlack {
			t.Errorf("%s: call %d came %s after call %d, want at least %s", what, k+1, gap.Round(time.Millisecond), k, least(k))
		}
	}
}

// warnings counts the Warning events on the named object by reason. The
// event recorder folds a repeated event into one object with a count, so
// the count, not the number of objects, is what a user was shown.
func warningCounts(ctx context.Context, t *testing.T, ns, name string) map[string]int32 {
	t.Helper()
	list, err := env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		t.Fatalf("list events of %s/%s: %v", ns, name, err)
	}
	out := map[string]int32{}
	for _, ev := range list.Items {
		if ev.Type == corev1.EventTypeWarning {
			out[ev.Reason] += max(ev.Count, 1)
		}
	}
	return out
}

// wantOneWarning checks that each pod was warned once with reason, however
// many times the worker retried. Events are sent asynchronously; the first
// poll waits for them to land.
func wantOneWarning(ctx context.Context, t *testing.T, ns, reason string, pods []string) {
	t.Helper()
	for _, p := range pods {
		var got map[string]int32
		_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			got = warningCounts(ctx, t, ns, p)
			return got[reason] > 0, nil
		})
		if len(got) != 1 || got[reason] != 1 {
			t.Errorf("pod %s was warned %v, want one %s", p, got, reason)
		}
	}
}

// wantIdentities checks which of ids are on pool i's VMSS: exactly want.
func wantIdentities(t *testing.T, pool int, ids, want []string) {
	t.Helper()
	var on []string
	for _, id := range ids {
		if onPool(pool, identityID(sharedRG, id)) {
			on = append(on, id)
		}
	}
	sort.Strings(want)
	if fmt.Sprint(on) != fmt.Sprint(want) {
		t.Errorf("of %v, %s holds %v, want %v", ids, poolName(pool), on, want)
	}
}

func repeated(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestStormIsRiddenOut puts 40 pods wanting six identities on two VMSS
// while ARM answers every call on one with 429 (Retry-After 5 s) and on the
// other with 503 and 500 in turn, for 20 s. During the storm the worker
// calls each VMSS no sooner than Retry-After or its back-off allows, and
// each pod is warned once that the cloud is unavailable, not on every
// retry; afterwards each VMSS gets its identities in one PATCH, and
// exactly its own.
func TestStormIsRiddenOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const (
		throttled, failing = 3, 4
		stormLen           = 20 * time.Second
		retryAfter         = 5 * time.Second
		podsPerPool        = 20
	)
	ids := []string{"many-00", "many-01", "many-02", "many-03", "many-04", "many-05"}
	wantOn := map[int][]string{throttled: ids[0:4], failing: ids[2:6]}

	calls := newCallClock(t)
	// Calls are counted from before the first rule to after the last goes,
	// so that none is left out of the bounds below.
	start := time.Now()
	var stormRules []string
	stormRules = append(stormRules, calls.add("throttled", faults.Rule{Match: vmssRoute(throttled, "GET|PATCH"), Status: 429, RetryAfter: int(retryAfter / time.Second)}))
	for i := 0; i < 100; i++ {
		stormRules = append(stormRules,
			calls.add("failing", faults.Rule{Match: vmssRoute(failing, "GET|PATCH"), Times: 1, Status: 503}),
			calls.add("failing", faults.Rule{Match: vmssRoute(failing, "GET|PATCH"), Times: 1, Status: 500}))
	}
	for _, p := range []int{throttled, failing} {
		calls.count(fmt.Sprintf("%d after", p), vmssRoute(p, "GET|PATCH"))
	}
	patches := map[int]int{throttled: azure.PatchCount(poolName(throttled)), failing: azure.PatchCount(poolName(failing))}

	ns := env.NewNamespace(t)
	for _, id := range ids {
		bindIdentity(ctx, t, ns, id, id)
	}
	var pods, unavailable, assigned []string
	for i := 0; i < podsPerPool; i++ {
		for _, pool := range []int{throttled, failing} {
			id := wantOn[pool][i%len(wantOn[pool])]
			name := fmt.Sprintf("p%d-%02d", pool, i)
			runPod(ctx, t, ns, name, pool, id)
			pods = append(pods, name)
			unavailable = append(unavailable, id+" Created CloudUnavailable")
			assigned = append(assigned, id+" Assigned AssignedToMachine")
		}
	}
	t.Logf("%d pods created in %s", len(pods), time.Since(start).Round(time.Millisecond))
	waitStatuses(ctx, t, ns, stormLen-time.Since(start), unavailable...)
	t.Logf("every assignment CloudUnavailable %s into the storm", time.Since(start).Round(time.Millisecond))

	time.Sleep(time.Until(start.Add(stormLen)))
	calls.remove(stormRules...)
	over := time.Now()
	// The last 429 asked for 5 s and the back-off is at most the resync
	// period, so each VMSS is called again within 5 s, and that burst
	// finishes the work.
	waitStatuses(ctx, t, ns, retryAfter+5*time.Second, assigned...)
	converged := time.Since(over)
	time.Sleep(time.Until(over.Add(afterRecovery)))

	throttledCalls := calls.between(start, over, "throttled")
	failingCalls := calls.between(start, over, "failing")
	storm := over.Sub(start)
	t.Logf("storm of %s: %s got %d calls at %s; %s got %d at %s", storm,
		poolName(throttled), len(throttledCalls), offsets(start, throttledCalls),
		poolName(failing), len(failingCalls), offsets(start, failingCalls))
	// One call per Retry-After at most: a 20 s storm allows 5 calls.
	checkGaps(t, poolName(throttled)+" during 429s", throttledCalls, func(int) time.Duration { return retryAfter })
	if limit := int(storm/retryAfter) + 1; len(throttledCalls) > limit {
		t.Errorf("%s got %d calls in a %s storm of 429s with Retry-After %s, want at most %d", poolName(throttled), len(throttledCalls), storm, retryAfter, limit)
	}
	// Back-off 1 s, then 2 s (the resync period caps it): at most 11 calls.
	checkGaps(t, poolName(failing)+" during 5xx", failingCalls, backoffAfter)
	if limit := 2 + int((storm-minBackoff)/micResync); len(failingCalls) > limit {
		t.Errorf("%s got %d calls in a %s storm of 5xx, want at most %d", poolName(failing), len(failingCalls), storm, limit)
	}

	total := 0
	for _, pool := range []int{throttled, failing} {
		after := calls.between(over, over.Add(afterRecovery), fmt.Sprintf("%d after", pool))
		total += len(after)
		n := azure.PatchCount(poolName(pool)) - patches[pool]
		t.Logf("%s after the storm: converged in %s; %d calls in %s at %s, %d accepted PATCH", poolName(pool), converged.Round(time.Millisecond), len(after), afterRecovery, offsets(over, after), n)
		if n != 1 {
			t.Errorf("%s accepted %d PATCHes for one storm's worth of changes, want 1", poolName(pool), n)
		}
		// One GET and the PATCH, then a GET per resync period.
		if limit := 2 + int(afterRecovery/micResync); len(after) > limit {
			t.Errorf("%s got %d calls in the %s after the storm, want at most %d", poolName(pool), len(after), afterRecovery, limit)
		}
		wantIdentities(t, pool, ids, wantOn[pool])
	}
	t.Logf("%d calls on the two VMSS in the %s after the storm, for %d new assignments", total, afterRecovery, len(pods))
	var throttledPods, failingPods []string
	for _, p := range pods {
		if strings.HasPrefix(p, fmt.Sprintf("p%d-", throttled)) {
			throttledPods = append(throttledPods, p)
		} else {
			failingPods = append(failingPods, p)
		}
	}
	wantOneWarning(ctx, t, ns, "TooManyRequests", throttledPods)
	wantOneWarning(ctx, t, ns, "InternalServerError", failingPods)
}

// TestOutageIsRiddenOut makes ARM drop every call on two VMSS without an
// answer for 30 s while pods come and go on them: each VMSS already holds
// two identities, one of whose pods leaves, and twelve new pods per VMSS
// arrive over the outage. During it the worker backs off, whatever pods
// change; the new pods are warned once and wait as CloudUnavailable, the
// old ones keep their identity and see nothing, and the identity whose pod
// left stays held until it can be removed. After it each VMSS takes all
// its changes in one PATCH, and the calls in the 10 s after recovery stay
// within what one burst and the resync period explain.
func TestOutageIsRiddenOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const (
		poolA, poolB = 3, 4
		outageLen    = 30 * time.Second
		newPods      = 12 // per VMSS, one every 2 s
	)
	// Per VMSS: an identity that stays, one whose pod leaves, one that comes.
	roles := map[int][3]string{poolA: {"many-06", "many-07", "many-10"}, poolB: {"many-08", "many-09", "many-11"}}
	var ids []string
	for _, r := range roles {
		ids = append(ids, r[:]...)
	}
	sort.Strings(ids)

	ns := env.NewNamespace(t)
	for _, id := range ids {
		bindIdentity(ctx, t, ns, id, id)
	}
	var before, during, after []string
	for _, pool := range []int{poolA, poolB} {
		r := roles[pool]
		runPod(ctx, t, ns, fmt.Sprintf("keep-%d", pool), pool, r[0])
		runPod(ctx, t, ns, fmt.Sprintf("gone-%d", pool), pool, r[1])
		before = append(before, r[0]+" Assigned AssignedToMachine", r[1]+" Assigned AssignedToMachine")
		// The leaving pod's assignment stays, held by its finalizer, until
		// its identity is off the VMSS.
		during = append(during, r[0]+" Assigned AssignedToMachine", r[1]+" Assigned AssignedToMachine")
		during = append(during, repeated(r[2]+" Created CloudUnavailable", newPods)...)
		after = append(after, r[0]+" Assigned AssignedToMachine")
		after = append(after, repeated(r[2]+" Assigned AssignedToMachine", newPods)...)
	}
	waitStatuses(ctx, t, ns, 30*time.Second, before...)

	calls := newCallClock(t)
	start := time.Now() // before the first rule: no dropped call is left out
	var down []string
	for _, pool := range []int{poolA, poolB} {
		down = append(down, calls.add(fmt.Sprintf("%d down", pool), faults.Rule{Match: vmssRoute(pool, "GET|PATCH"), Abort: true}))
	}
	for _, pool := range []int{poolA, poolB} {
		calls.count(fmt.Sprintf("%d GET", pool), vmssRoute(pool, "GET"))
		calls.count(fmt.Sprintf("%d PATCH", pool), vmssRoute(pool, "PATCH"))
	}
	patches := map[int]int{poolA: azure.PatchCount(poolName(poolA)), poolB: azure.PatchCount(poolName(poolB))}
	var warned []string
	for i := 0; i < newPods; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * 2 * time.Second)))
		for _, pool := range []int{poolA, poolB} {
			name := fmt.Sprintf("new-%d-%02d", pool, i)
			runPod(ctx, t, ns, name, pool, roles[pool][2])
			warned = append(warned, name)
			if i == 2 {
				if err := env.Kube.CoreV1().Pods(ns).Delete(ctx, fmt.Sprintf("gone-%d", pool), metav1.DeleteOptions{}); err != nil {
					t.Fatalf("delete pod gone-%d: %v", pool, err)
				}
			}
		}
	}
	waitStatuses(ctx, t, ns, time.Until(start.Add(outageLen)), during...)
	time.Sleep(time.Until(start.Add(outageLen)))
	calls.remove(down...)
	recovered := time.Now()
	// The back-off is at most the resync period, so each VMSS is called
	// again within 2 s, and that burst finishes the work.
	waitStatuses(ctx, t, ns, micResync+6*time.Second, after...)
	converged := time.Since(recovered)
	time.Sleep(time.Until(recovered.Add(afterRecovery)))

	outage := recovered.Sub(start)
	total := 0
	for _, pool := range []int{poolA, poolB} {
		r := roles[pool]
		wantIdentities(t, pool, ids, []string{r[0], r[2]})
		dropped := calls.between(start, recovered, fmt.Sprintf("%d down", pool))
		gets := calls.between(recovered, recovered.Add(afterRecovery), fmt.Sprintf("%d GET", pool))
		patchCalls := calls.between(recovered, recovered.Add(afterRecovery), fmt.Sprintf("%d PATCH", pool))
		n := azure.PatchCount(poolName(pool)) - patches[pool]
		t.Logf("%s: %d calls dropped in the %s outage at %s; after recovery: converged in %s, %d GET at %s and %d PATCH at %s in %s, %d accepted PATCH",
			poolName(pool), len(dropped), outage.Round(time.Millisecond), offsets(start, dropped), converged.Round(time.Millisecond),
			len(gets), offsets(recovered, gets), len(patchCalls), offsets(recovered, patchCalls), afterRecovery, n)
		// Back-off 1 s, then 2 s, whatever pods change meanwhile: at most
		// 16 calls in 30 s.
		checkGaps(t, poolName(pool)+" during the outage", dropped, backoffAfter)
		if limit := 2 + int((outage-minBackoff)/micResync); len(dropped) > limit {
			t.Errorf("%s got %d calls during a %s outage, want at most %d", poolName(pool), len(dropped), outage, limit)
		}
		// Thirteen assignments changed on the VMSS during the outage (twelve
		// new, one leaving): one PATCH adds the new identity and removes
		// the old. A worker calling per assignment would make 26 calls.
		// GETs: the recovery burst's, one more when the leaving
		// assignment's finalizer is released, and one per resync period.
		if n != 1 || len(patchCalls) != 1 {
			t.Errorf("%s: %d PATCH calls, %d accepted, in the %s after recovery; want all changes in 1", poolName(pool), len(patchCalls), n, afterRecovery)
		}
		if limit := 2 + int(afterRecovery/micResync); len(gets) > limit {
			t.Errorf("%s: %d GETs in the %s after recovery, want at most %d", poolName(pool), len(gets), afterRecovery, limit)
		}
		total += len(gets) + len(patchCalls)
		if got := warningCounts(ctx, t, ns, fmt.Sprintf("keep-%d", pool)); len(got) != 0 {
			t.Errorf("pod keep-%d, whose identity stayed on its VMSS, was warned %v", pool, got)
		}
	}
	t.Logf("%d calls on the two VMSS in the %s after recovery, for %d changed assignments", total, afterRecovery, 2*(newPods+1))
	wantOneWarning(ctx, t, ns, "CloudUnavailable", warned)
}
