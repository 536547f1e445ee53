package v1

import (
	"strings"
	"testing"
)

func TestClientSecretKey(t *testing.T) {
	cases := map[string]struct {
		keys   []string // keys of the Secret
		want   string   // key chosen
		wantIn []string // texts the error must contain, when refused
	}{
		"a single clientsecret key is used":                     {keys: []string{"clientsecret"}, want: "clientsecret"},
		"a single key is used whatever its name (seed 002)":     {keys: []string{"password"}, want: "password"},
		"a single oddly named key is used":                      {keys: []string{"sp-secret"}, want: "sp-secret"},
		"clientsecret wins among several keys":                  {keys: []string{"tenant", "password", "clientsecret"}, want: "clientsecret"},
		"password wins among several keys without clientsecret": {keys: []string{"tenant", "password", "clientid"}, want: "password"},
		"several keys and no preferred one are refused, listing them sorted and the fix": {
			keys: []string{"tenant", "secret", "appid"}, wantIn: []string{"apps/sp", "has keys appid, secret, tenant", `under the key "clientsecret"`}},
		"keys are matched exactly, as kubectl stores them": {
			keys: []string{"ClientSecret", "Password"}, wantIn: []string{"has keys ClientSecret, Password"}},
		"an empty Secret is refused with the command that fills it": {
			wantIn: []string{"holds no value", "--from-literal=clientsecret="}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ClientSecretKey("apps/sp", tc.keys)
			if tc.wantIn != nil {
				if err == nil {
					t.Fatalf("chose %q, want an error", got)
				}
				for _, want := range tc.wantIn {
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("chose %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
