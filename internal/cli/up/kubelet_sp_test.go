package up

import (
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/cloud"
)

func TestServicePrincipalOfTakesTheNewestSecret(t *testing.T) {
	day := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		secrets []cloud.PasswordCredential
		want    string
		wantErr string
	}{
		"one expired secret is taken as is": {secrets: []cloud.PasswordCredential{{Value: "old", EndDate: day}}, want: "old"},
		"the one that expires last":         {secrets: []cloud.PasswordCredential{{Value: "old", EndDate: day}, {Value: "new", EndDate: day.AddDate(1, 0, 0)}}, want: "new"},
		"one without end date wins":         {secrets: []cloud.PasswordCredential{{Value: "forever"}, {Value: "dated", EndDate: day}}, want: "forever"},
		"no secret names the fix":           {wantErr: "has no client secret for azure.json"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sp, err := servicePrincipalOf(cloud.Application{Name: "aks-sp", AppID: "app-id", Secrets: tc.secrets})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || sp.Secret != tc.want || sp.ClientID != "app-id" {
				t.Fatalf("servicePrincipalOf = %+v, %v; want secret %q", sp, err, tc.want)
			}
		})
	}
}
