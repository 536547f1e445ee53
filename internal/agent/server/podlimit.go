package server

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PodLimits bound what one pod may ask of the agent, so a pod in a retry
// loop or asking for many audiences cannot starve the node's other pods or
// flood Azure AD and the node's IMDS (which itself allows a VM about 20
// requests a second). SDKs cache tokens, so a well-behaved pod stays far
// below them.
type PodLimits struct {
	// Rate is the steady number of token requests per second; 0 disables
	// the rate limit.
	Rate float64
	// Burst is how many requests may come at once above Rate.
	Burst int
	// InFlight is how many of a pod's token requests may be in progress at
	// once (waiting for an assignment or an upstream call); 0 disables it.
	InFlight int
}

// Defaults of PodLimits.
const (
	DefaultPodRate     = 20
	DefaultPodBurst    = 40
	DefaultPodInFlight = 8
)

// idleBudget is how long a pod's budget is kept after its last request;
// sweeping older ones keeps the map as small as the node's busy pods.
const idleBudget = 10 * time.Minute

// podLimiter keeps one budget per pod.
type podLimiter struct {
	limits PodLimits
	now    func() time.Time

	mu        sync.Mutex
	pods      map[PodRef]*podBudget
	lastSweep time.Time
}

type podBudget struct {
	rate     *rate.Limiter
	inFlight int
	lastSeen time.Time
}

func newPodLimiter(l PodLimits, now func() time.Time) *podLimiter {
	return &podLimiter{limits: l, now: now, pods: map[PodRef]*podBudget{}}
}

// acquire takes one request from the pod's budget. When the budget allows
// it, release must be called once the request is done; otherwise the
// refusal says why, as a 429 the SDKs retry after Retry-After.
func (l *podLimiter) acquire(pod PodRef) (release func(), ref *Refusal) {
	if l == nil || (l.limits.Rate <= 0 && l.limits.InFlight <= 0) {
		return func() {}, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	b := l.pods[pod]
	if b == nil {
		b = &podBudget{}
		if l.limits.Rate > 0 {
			b.rate = rate.NewLimiter(rate.Limit(l.limits.Rate), max(l.limits.Burst, 1))
		}
		l.pods[pod] = b
	}
	b.lastSeen = now
	if l.limits.InFlight > 0 && b.inFlight >= l.limits.InFlight {
		return nil, &Refusal{Status: http.StatusTooManyRequests, Reason: ReasonThrottled,
			Message: fmt.Sprintf("Too many requests: pod %s already has %d token requests in progress; retry after the earlier ones finish", pod, b.inFlight)}
	}
	if b.rate != nil && !b.rate.AllowN(now, 1) {
		return nil, &Refusal{Status: http.StatusTooManyRequests, Reason: ReasonThrottled,
			Message: fmt.Sprintf("Too many requests: pod %s asked for tokens more than %g times a second; SDKs cache tokens, so look for a client that does not", pod, l.limits.Rate)}
	}
	b.inFlight++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			b.inFlight--
			l.mu.Unlock()
		})
	}, nil
}

// sweepLocked forgets budgets idle for idleBudget, at most once a minute.
func (l *podLimiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for pod, b := range l.pods {
		if b.inFlight == 0 && now.Sub(b.lastSeen) > idleBudget {
			delete(l.pods, pod)
		}
	}
}

// size is the number of budgets kept, for tests.
func (l *podLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pods)
}
