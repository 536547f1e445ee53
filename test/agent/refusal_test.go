package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
)

// TestExpiredClientSecretIsExplainedAndDiagnosed: a service principal whose
// client secret expired gets the pod Azure AD's AADSTS7000222 through
// IMDS's error; the agent records why and what fixes it on the
// AzureIdentity, and podid doctor's token-refusals check reports it with
// that fix.
func TestExpiredClientSecretIsExplainedAndDiagnosed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	const secretValue = "expired-secret-value"
	app, err := s.cloud.CreateApplication(tenantID, "expired-"+ns, secretValue, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, pod := runServicePrincipalPod(ctx, t, ns, app.AppID, map[string][]byte{"clientsecret": []byte(secretValue)})

	got := podCaller(t, pod).get(t, tokenPath(freshResource("expired")), true)
	if got.status != 400 || !strings.Contains(got.body, "AADSTS7000222") || strings.Contains(got.body, secretValue) {
		t.Fatalf("answer %d %s, want 400 carrying AADSTS7000222 and not the secret", got.status, got.body)
	}
	c, err := client.New(s.env.Config, client.Options{Scheme: doctor.Scheme(kubeclient.Scheme())})
	if err != nil {
		t.Fatal(err)
	}
	var finding doctor.Finding
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		f, err := doctor.Gather(ctx, c, doctor.GatherOptions{Scope: doctor.Scope{Namespace: ns}})
		if err != nil {
			return false, nil
		}
		for _, fd := range doctor.Run(f, doctor.Checks()).Findings {
			if fd.Check == "token-refusals" && fd.Object == "AzureIdentity "+ns+"/sp" {
				finding = fd
				return fd.Status == doctor.Fail, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("podid doctor found no token refusal for AzureIdentity %s/sp: %v (last %+v)", ns, err, finding)
	}
	if !strings.Contains(finding.Message, "AADSTS7000222") || !strings.Contains(finding.Message, "client secret has expired") ||
		!strings.Contains(finding.Fix, "az ad app credential reset") || strings.Contains(strings.Join(finding.Evidence, " "), secretValue) {
		t.Fatalf("finding %+v: want the expiry, the reset command, and never the secret", finding)
	}
}
