package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Rule describes one fault.
type Rule struct {
	// ID is assigned by Add when empty.
	ID string `json:"id,omitempty"`
	// Match is a regular expression over "<service> <METHOD> <path>"; service
	// is one of aad, arm, imds, keyvault, admin.
	Match string `json:"match"`
	// After is how many matching calls pass untouched before the rule applies.
	After int `json:"after,omitempty"`
	// Times is how many matching calls the rule affects; 0 means all.
	Times int `json:"times,omitempty"`
	// Latency delays matching calls.
	Latency time.Duration `json:"latency,omitempty"`
	// Status, when non-zero, replaces the response with this status.
	Status int `json:"status,omitempty"`
	// RetryAfter sets the Retry-After header (whole seconds) on injected responses.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Body is the injected response body (JSON); a generic one is used when empty.
	Body string `json:"body,omitempty"`
	// Abort drops matching calls without an answer (see abort.go); it
	// excludes Status.
	Abort bool `json:"abort,omitempty"`
	// Remaining counts calls left when Times > 0 (read-only).
	Remaining int `json:"remaining,omitempty"`
}

type rule struct {
	Rule
	re      *regexp.Regexp
	skipped int
}

// Injector holds the active rules. The zero value is not usable; use New.
type Injector struct {
	mu    sync.Mutex
	rules []*rule
	seq   int
	sleep func(time.Duration)
}

// New returns an empty Injector.
func New() *Injector { return &Injector{sleep: time.Sleep} }

// Add installs r and returns its ID.
func (in *Injector) Add(r Rule) (string, error) {
	re, err := regexp.Compile(r.Match)
	if err != nil {
		return "", fmt.Errorf("compile fault match %q: %w", r.Match, err)
	}
	if r.Status != 0 && (r.Status < 100 || r.Status > 599) {
		return "", fmt.Errorf("fault status %d is not an HTTP status", r.Status)
	}
	if r.Abort && r.Status != 0 {
		return "", fmt.Errorf("fault both aborts and answers %d; choose one", r.Status)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	if r.ID == "" {
		r.ID = "fault-" + strconv.Itoa(in.seq)
	}
	r.Remaining = r.Times
	in.rules = append(in.rules, &rule{Rule: r, re: re})
	return r.ID, nil
}

// Remove deletes the rule with id.
func (in *Injector) Remove(id string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, r := range in.rules {
		if r.ID == id {
			in.rules = append(in.rules[:i], in.rules[i+1:]...)
			return
		}
	}
}

// Clear removes every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = nil
}

// List returns a copy of the active rules.
func (in *Injector) List() []Rule {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Rule, 0, len(in.rules))
	for _, r := range in.rules {
		out = append(out, r.Rule)
	}
	return out
}

// Next returns the fault to apply to route and consumes one use of it. The
// first matching rule decides (a rule still counting down After lets the call
// through); exhausted rules are dropped.
func (in *Injector) Next(route string) (Rule, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, r := range in.rules {
		if !r.re.MatchString(route) {
			continue
		}
		if r.skipped < r.After {
			r.skipped++
			return Rule{}, false
		}
		got := r.Rule
		if r.Times > 0 {
			r.Remaining--
			if r.Remaining <= 0 {
				in.rules = append(in.rules[:i], in.rules[i+1:]...)
			}
		}
		return got, true
	}
	return Rule{}, false
}

// Wrap applies faults to next for service.
func (in *Injector) Wrap(service string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := in.Next(service + " " + r.Method + " " + r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if f.Abort {
			abort()
		}
		if f.Status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		body := f.Body
		if body == "" {
			body = defaultBody(service, f.Status)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(body))
	})
}

func defaultBody(service string, status int) string {
	code, msg := "InternalServerError", "Injected fault."
	if status == http.StatusTooManyRequests {
		code, msg = "TooManyRequests", "The request is being throttled as the limit has been reached for operation type. Injected fault."
	}
	if service == "imds" || service == "aad" {
		b, _ := json.Marshal(map[string]string{"error": code, "error_description": msg})
		return string(b)
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return string(b)
}

// AdminHandler serves GET (list), POST (add one Rule as JSON, returns its
// ID) and DELETE (clear all, or ?id= one) on its path.
func (in *Injector) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodGet:
			_ = json.NewEncoder(w).Encode(in.List())
		case http.MethodPost:
			var rule Rule
			if err := json.NewDecoder(r.Body).Decode(&rule); err != nil {
				http.Error(w, fmt.Sprintf(`{"error":"decode rule: %s"}`, jsonEscape(err.Error())), http.StatusBadRequest)
				return
			}
			id, err := in.Add(rule)
			if err != nil {
				http.Error(w, fmt.Sprintf(`{"error":"%s"}`, jsonEscape(err.Error())), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
		case http.MethodDelete:
			if id := r.URL.Query().Get("id"); id != "" {
				in.Remove(id)
			} else {
				in.Clear()
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
