package doctor

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

func refusalEvent(ns, name string, age time.Duration, msg string) corev1.Event {
	return corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name + ".1"},
		InvolvedObject: corev1.ObjectReference{Kind: "AzureIdentity", Namespace: ns, Name: name},
		Type:           corev1.EventTypeWarning, Reason: reasonTokenRefused, Message: msg, Count: 3,
		Source:        corev1.EventSource{Component: "podid-nmi"},
		LastTimestamp: metav1.NewTime(testNow.Add(-age)),
	}
}

func TestTokenRefusals(t *testing.T) {
	id := &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "sp"}}
	const msg = "Azure AD refused a token for resource https://vault.azure.net (AADSTS7000222): the service principal's client secret has expired. Fix: create a new secret (az ad app credential reset --id <client ID> --append) and put it in the Secret the AzureIdentity's spec.clientPassword names"
	cases := map[string]struct {
		events       []corev1.Event
		status       Status
		message, fix string
	}{
		"an expired secret reported by the agent fails with its fix": {
			events: []corev1.Event{refusalEvent("apps", "sp", time.Minute, msg)},
			status: Fail, message: "(AADSTS7000222): the service principal's client secret has expired",
			fix: "create a new secret (az ad app credential reset",
		},
		"an old refusal no longer counts": {
			events: []corev1.Event{refusalEvent("apps", "sp", time.Hour, msg)},
			status: Pass, message: "no node agent reported",
		},
		"no event passes": {status: Pass, message: "1 identity"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := facts(id)
			f.Events = tc.events
			got := checkTokenRefusals(f)
			if len(got) != 1 || got[0].Status != tc.status || !strings.Contains(got[0].Message, tc.message) || !strings.Contains(got[0].Fix, tc.fix) {
				t.Fatalf("got %+v; want %s %q fix %q", got, tc.status, tc.message, tc.fix)
			}
		})
	}
}
