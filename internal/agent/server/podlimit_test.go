package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/podid/podid/api/v1"
)

func TestPodLimiter(t *testing.T) {
	podA, podB := PodRef{Namespace: "ns", Name: "a"}, PodRef{Namespace: "ns", Name: "b"}
	cases := map[string]struct {
		limits PodLimits
		run    func(l *podLimiter, clock *time.Time) []bool // whether each acquire was allowed
		want   []bool
	}{
		"a burst is allowed, the next request is refused": {
			limits: PodLimits{Rate: 1, Burst: 3},
			run: func(l *podLimiter, _ *time.Time) []bool {
				return []bool{allow(l, podA), allow(l, podA), allow(l, podA), allow(l, podA)}
			},
			want: []bool{true, true, true, false},
		},
		"the budget refills at the rate": {
			limits: PodLimits{Rate: 2, Burst: 1},
			run: func(l *podLimiter, clock *time.Time) []bool {
				first, second := allow(l, podA), allow(l, podA)
				*clock = clock.Add(500 * time.Millisecond)
				return []bool{first, second, allow(l, podA)}
			},
			want: []bool{true, false, true},
		},
		"one pod's budget does not spend another's": {
			limits: PodLimits{Rate: 1, Burst: 1},
			run: func(l *podLimiter, _ *time.Time) []bool {
				return []bool{allow(l, podA), allow(l, podA), allow(l, podB)}
			},
			want: []bool{true, false, true},
		},
		"requests in progress are capped until one ends": {
			limits: PodLimits{InFlight: 2},
			run: func(l *podLimiter, _ *time.Time) []bool {
				r1, ref1 := l.acquire(podA)
				_, ref2 := l.acquire(podA)
				_, ref3 := l.acquire(podA)
				r1()
				r1() // a second release changes nothing
				_, ref4 := l.acquire(podA)
				_, ref5 := l.acquire(podA)
				return []bool{ref1 == nil, ref2 == nil, ref3 == nil, ref4 == nil, ref5 == nil}
			},
			want: []bool{true, true, false, true, false},
		},
		"zero limits allow everything": {
			limits: PodLimits{},
			run: func(l *podLimiter, _ *time.Time) []bool {
				return []bool{allow(l, podA), allow(l, podA), allow(l, podA)}
			},
			want: []bool{true, true, true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			clock := fixedNow
			l := newPodLimiter(tc.limits, func() time.Time { return clock })
			got := tc.run(l, &clock)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("allowed %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// allow acquires and releases at once, as a fast request would.
func allow(l *podLimiter, pod PodRef) bool {
	release, ref := l.acquire(pod)
	if ref != nil {
		return false
	}
	release()
	return true
}

func TestPodLimiterForgetsIdlePods(t *testing.T) {
	clock := fixedNow
	l := newPodLimiter(PodLimits{Rate: 1, Burst: 1}, func() time.Time { return clock })
	for i := range 100 {
		allow(l, PodRef{Namespace: "ns", Name: string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	clock = clock.Add(idleBudget + 2*time.Minute)
	allow(l, PodRef{Namespace: "ns", Name: "late"})
	if n := l.size(); n != 1 {
		t.Fatalf("%d budgets kept after the others went idle, want 1", n)
	}
}

func TestAPodOverItsRateGets429WithRetryAfter(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PodLimits = PodLimits{Rate: 1, Burst: 2} })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	e.cluster.addPod("10.0.0.6", Caller{Pod: PodRef{Namespace: "default", Name: "other"}}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	for i, want := range []int{200, 200, 429} {
		w := e.do("GET", tokenURL, "10.0.0.5", md)
		if w.Code != want {
			t.Fatalf("request %d: status %d, want %d: %s", i+1, w.Code, want, w.Body)
		}
		if want == http.StatusTooManyRequests && (w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"error":"too_many_requests"`)) {
			t.Fatalf("429 without Retry-After or IMDS error body: %v %s", w.Header(), w.Body)
		}
	}
	if w := e.do("GET", tokenURL, "10.0.0.6", md); w.Code != 200 {
		t.Fatalf("another pod was throttled too: %d %s", w.Code, w.Body)
	}
}
