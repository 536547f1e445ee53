package nodemode

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podid/podid/internal/cloud/faults"
)

// callClock stamps the ARM calls that fault rules catch. The injector
// counts down a rule's Remaining on each call it decides; the clock samples
// every rule it watches each few milliseconds and records one call per
// unit consumed, at the sample's time. A rule with Times 1 that vanished
// from the list was consumed by one call.
type callClock struct {
	t     *testing.T
	mu    sync.Mutex
	rules map[string]*watched // by rule ID
	calls map[string][]time.Time
	stop  chan struct{}
	done  chan struct{}
}

type watched struct {
	label string
	times int
	seen  int // calls already recorded
}

// sampleEvery bounds how late a call is stamped; gap checks allow it on
// both ends.
const sampleEvery = 5 * time.Millisecond

func newCallClock(t *testing.T) *callClock {
	c := &callClock{t: t, rules: map[string]*watched{}, calls: map[string][]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	t.Cleanup(func() {
		c.mu.Lock()
		ids := make([]string, 0, len(c.rules))
		for id := range c.rules {
			ids = append(ids, id)
		}
		c.mu.Unlock()
		c.remove(ids...)
		close(c.stop)
		<-c.done
	})
	return c
}

// add installs r and records the calls it decides under label. A rule
// without Times gets a count large enough never to run out.
func (c *callClock) add(label string, r faults.Rule) string {
	c.t.Helper()
	if r.Times == 0 {
		r.Times = 1 << 30
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, err := azure.Faults().Add(r)
	if err != nil {
		c.t.Fatalf("add fault %s: %v", label, err)
	}
	c.rules[id] = &watched{label: label, times: r.Times}
	return id
}

// count installs a rule that changes nothing, to count calls on route
// once rules added before it stop catching them.
func (c *callClock) count(label, route string) string {
	return c.add(label, faults.Rule{Match: route, Latency: time.Nanosecond})
}

// remove takes rules out of the cloud after a last sample, so that their
// disappearance is not taken for a call.
func (c *callClock) remove(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sampleLocked(time.Now())
	for _, id := range ids {
		azure.Faults().Remove(id)
		delete(c.rules, id)
	}
}

func (c *callClock) run() {
	defer close(c.done)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tick.C:
			c.mu.Lock()
			c.sampleLocked(now)
			c.mu.Unlock()
		}
	}
}

func (c *callClock) sampleLocked(now time.Time) {
	left := map[string]int{}
	for _, r := range azure.Faults().List() {
		left[r.ID] = r.Remaining
	}
	for id, w := range c.rules {
		used := w.times // gone: used up
		if n, ok := left[id]; ok {
			used = w.times - n
		}
		for ; w.seen < used; w.seen++ {
			c.calls[w.label] = append(c.calls[w.label], now)
		}
	}
}

// between returns the calls recorded under the labels in [from, to),
// in order.
func (c *callClock) between(from, to time.Time, labels ...string) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, l := range labels {
		for _, at := range c.calls[l] {
			if !at.Before(from) && at.Before(to) {
				out = append(out, at)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// offsets renders call times relative to from, for the log.
func offsets(from time.Time, ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, at := range ts {
		parts[i] = at.Sub(from).Round(10 * time.Millisecond).String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// vmssRoute matches the calls on pool i's VMSS itself with method (a
// regular expression, e.g. "GET|PATCH").
func vmssRoute(pool int, method string) string {
	return fmt.Sprintf("^arm (%s) /subscriptions/[^ ]*/virtualMachineScaleSets/%s$", method, poolName(pool))
}
