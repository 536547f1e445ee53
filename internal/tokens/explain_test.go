package tokens

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	cases := map[string]struct {
		err        error
		ok         bool
		code, want string
	}{
		"an expired secret is named with the reset command": {
			err: &Error{Status: 401, Code: "invalid_client", Description: "AADSTS7000222: The provided client secret keys for app 'x' are expired."},
			ok:  true, code: "AADSTS7000222", want: "az ad app credential reset",
		},
		"a federated mismatch points at the doctor": {
			err: fmt.Errorf("exchange: %w", &Error{Status: 400, Code: "invalid_request", Description: "AADSTS70021: No matching federated identity record found"}),
			ok:  true, code: "AADSTS70021", want: "podid doctor --identity",
		},
		"an unknown refusal keeps its OAuth code": {
			err: &Error{Status: 400, Code: "invalid_scope", Description: "the scope is wrong"},
			ok:  true, code: "invalid_scope", want: "podid doctor",
		},
		"a transient failure is not a refusal": {err: &Error{Status: 503, Code: "temporarily_unavailable"}},
		"a network error is not a refusal":     {err: errors.New("dial tcp: connection refused")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e, ok := Explain(tc.err)
			if ok != tc.ok || e.Code != tc.code || !strings.Contains(e.Fix, tc.want) {
				t.Errorf("got %+v %t; want ok %t code %q fix containing %q", e, ok, tc.ok, tc.code, tc.want)
			}
		})
	}
}
