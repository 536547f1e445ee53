package faults

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNext(t *testing.T) {
	cases := map[string]struct {
		rules  []Rule
		routes []string
		want   []int // status per route, -1 when no fault applies
	}{
		"next two matching calls fail, then calls pass": {
			rules:  []Rule{{Match: `^arm PATCH .*/virtualMachineScaleSets/`, Times: 2, Status: 429, RetryAfter: 3}},
			routes: []string{"arm PATCH /s/virtualMachineScaleSets/a", "arm GET /s/virtualMachineScaleSets/a", "arm PATCH /s/virtualMachineScaleSets/a", "arm PATCH /s/virtualMachineScaleSets/a"},
			want:   []int{429, -1, 429, -1},
		},
		"After lets the first matching calls through": {
			rules:  []Rule{{Match: `^aad `, After: 2, Times: 1, Status: 500}},
			routes: []string{"aad POST /t", "arm GET /x", "aad POST /t", "aad POST /t", "aad POST /t"},
			want:   []int{-1, -1, -1, 500, -1},
		},
		"a rule without Times applies forever": {
			rules:  []Rule{{Match: `^imds `, Status: 500}},
			routes: []string{"imds GET /metadata/identity/oauth2/token", "imds GET /metadata/identity/oauth2/token"},
			want:   []int{500, 500},
		},
		"the first matching rule wins and others wait their turn": {
			rules:  []Rule{{Match: `token`, Times: 1, Status: 503}, {Match: `token`, Times: 1, Status: 500}},
			routes: []string{"aad POST /t/oauth2/v2.0/token", "aad POST /t/oauth2/v2.0/token", "aad POST /t/oauth2/v2.0/token"},
			want:   []int{503, 500, -1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := New()
			for _, r := range tc.rules {
				if _, err := in.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			for i, route := range tc.routes {
				f, ok := in.Next(route)
				got := -1
				if ok {
					got = f.Status
				}
				if got != tc.want[i] {
					t.Fatalf("call %d (%s): status %d, want %d", i, route, got, tc.want[i])
				}
			}
		})
	}
}

func TestWrapAndAdmin(t *testing.T) {
	in := New()
	admin := httptest.NewRecorder()
	in.AdminHandler().ServeHTTP(admin, httptest.NewRequest(http.MethodPost, "/admin/faults", strings.NewReader(`{"match":"^arm GET ","times":1,"status":429,"retryAfter":7}`)))
	if admin.Code != http.StatusCreated {
		t.Fatalf("admin add: %d %s", admin.Code, admin.Body)
	}
	h := in.Wrap("arm", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/subscriptions/x", nil))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "7" || !strings.Contains(rec.Body.String(), "TooManyRequests") {
		t.Fatalf("injected response: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/subscriptions/x", nil))
	if rec.Code != 200 {
		t.Fatalf("second call should pass, got %d", rec.Code)
	}
	if _, err := in.Add(Rule{Match: "("}); err == nil {
		t.Fatal("bad regexp accepted")
	}
}
