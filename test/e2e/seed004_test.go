package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/plan"
)

// TestReplaySeed004 is the README's "Replay seed 004": node token mode with
// the grants of seed 004 steps 3, 4 and 7 left out; each failure is seen
// where a user looks (assignment status, Warning events, podid token, the
// vault's 403) and fixed with the one command the README gives.
func TestReplaySeed004(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	up := must(t, "up", "--detach", "--state-dir", dir, "--token-mode", "node",
		"--skip-step", "managed-identity-operator,vault-access,vm-contributor")
	for _, fix := range []string{
		`podid cloud role grant --state-dir ` + dir + ` --principal podid-mic --role "Virtual Machine Contributor" --scope resourceGroup/MC_rg-aks-poc-container-westus2`,
		`podid cloud vault-policy set --state-dir ` + dir + ` --vault kv-westus2-aks --principal aks-aad-user-identity --secrets get,list`,
	} {
		if !strings.Contains(up.stdout, fix) {
			t.Fatalf("podid up printed no %q:\n%s", fix, up.stdout)
		}
	}
	rec := readRecord(t, dir)
	if rec.TokenMode != "node" || len(rec.Skipped) != 3 {
		t.Fatalf("record: token mode %q, skipped %v", rec.TokenMode, rec.Skipped)
	}
	kube := kubeClient(t, rec.Kubeconfig)
	pod := rec.Demo.BoundPods()[0]
	ns, podName, _ := strings.Cut(pod, "/")
	token := func(timeout string, output string) result {
		return run(t, nil, "token", "--state-dir", dir, "--pod", pod, "--resource", plan.VaultResource, "--timeout", timeout, "-o", output)
	}
	// refused asserts the failure of one skipped role step: the pod's
	// assignment stays Created with reason, Warning events on the pod and
	// the AzureIdentity carry the fix (the az command, matched ignoring
	// case), and podid token fails naming both.
	refused := func(t *testing.T, reason, fix string) {
		t.Helper()
		waitFor(t, "assignment of "+pod+" Created with reason CloudRefused and code "+reason, func(ctx context.Context) error {
			return assignmentIs(ctx, kube, ns, podName, podidv1.AssignedIDCreated, string(assignstatus.CloudRefused)+"/"+reason)
		})
		for _, obj := range []string{podName, plan.DemoIdentity} {
			waitFor(t, "Warning "+reason+" on "+obj, func(ctx context.Context) error {
				return warned(ctx, kube, ns, obj, reason, fix)
			})
		}
		r := token("5s", "claims")
		if r.err == nil || r.stdout != "" || !strings.Contains(r.stderr, "is Created ("+reason+")") || !containsFold(r.stderr, fix) {
			t.Fatalf("podid token: err %v, stdout %q, stderr:\n%s\nwant a failure naming %s and %q", r.err, r.stdout, r.stderr, reason, fix)
		}
		// podid doctor names the missing grant and the same command, and
		// exits non-zero.
		d := doctorPod(t, dir, pod)
		f, ok := d.finding("assignment-state", "Pod "+pod)
		if d.err == nil || !ok || f.Status != doctor.Fail || !strings.Contains(f.Message, reason) || !containsFold(f.Fix, fix) {
			t.Fatalf("podid doctor --pod %s: err %v, finding %+v; want a failed assignment-state naming %s with fix %q\n%s", pod, d.err, f, reason, fix, d.out)
		}
	}

	t.Run("step 7 skipped: mic may not read the VMSS", func(t *testing.T) {
		refused(t, "AuthorizationFailed", `az role assignment create --role "Virtual Machine Contributor" --assignee b9276f33-e80c-4f09-9cdf-24c28c0feea4 --scope /subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/MC_rg-aks-poc-container-westus2`)
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", "podid-mic",
			"--role", "Virtual Machine Contributor", "--scope", "resourceGroup/MC_rg-aks-poc-container-westus2")
	})
	t.Run("step 3 skipped: mic may not assign the identity", func(t *testing.T) {
		refused(t, "LinkedAuthorizationFailed", `az role assignment create --role "Managed Identity Operator" --assignee b9276f33-e80c-4f09-9cdf-24c28c0feea4 --scope /subscriptions/99a3af26-911d-4bc5-8fcc-8f9de81e46c5/resourceGroups/rg-westus2-shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-aad-user-identity`)
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", "podid-mic",
			"--role", "Managed Identity Operator", "--scope", "identity/aks-aad-user-identity")
	})

	var raw string
	t.Run("both roles granted: the identity lands on the VMSS and the pod gets its token", func(t *testing.T) {
		r := token("90s", "raw")
		if r.err != nil {
			t.Fatalf("podid token: %v\n%s", r.err, r.stderr)
		}
		raw = strings.TrimSpace(r.stdout)
		waitFor(t, "assignment Assigned", func(ctx context.Context) error {
			return assignmentIs(ctx, kube, ns, podName, podidv1.AssignedIDAssigned, "")
		})
		if d := doctorPod(t, dir, pod); d.err != nil {
			t.Fatalf("podid doctor --pod %s after the grants: %v\n%s", pod, d.err, d.out)
		}
	})
	if raw == "" {
		t.Fatal("no token to read the vault with")
	}

	t.Run("step 4 skipped: Key Vault answers 403 with Azure's words", func(t *testing.T) {
		status, body, err := getSecret(rec, raw)
		if err != nil {
			t.Fatal(err)
		}
		want := "' does not have secrets get permission on key vault 'kv-westus2-aks;location=westus2'"
		if status != http.StatusForbidden || !strings.Contains(body, want) || !strings.Contains(body, `"AccessDenied"`) || !strings.Contains(body, "oid="+demoPrincipalID) {
			t.Fatalf("GET secret: %d %s; want 403 naming the identity and %q", status, body, want)
		}
		// podid doctor, reading the cloud as the run's read-only principal,
		// names the missing access policy and the command.
		d := doctorVault(t, dir, pod)
		f, ok := d.finding("vault-access", "AzureIdentity "+ns+"/"+plan.DemoIdentity)
		wantFix := "az keyvault set-policy --name kv-westus2-aks --object-id " + demoPrincipalID + " --secret-permissions get list"
		if d.err == nil || !ok || f.Status != doctor.Fail || f.Fix != wantFix {
			t.Fatalf("podid doctor --vault: err %v, finding %+v; want a failed vault-access with fix %q\n%s", d.err, f, wantFix, d.out)
		}
		must(t, "cloud", "vault-policy", "set", "--state-dir", dir, "--vault", "kv-westus2-aks",
			"--principal", "aks-aad-user-identity", "--secrets", "get,list")
		if d := doctorVault(t, dir, pod); d.err != nil {
			t.Fatalf("podid doctor --vault after the access policy: %v\n%s", d.err, d.out)
		}
		if got, err := readSecret(rec, raw); err != nil || got != demoSecretValue {
			t.Fatalf("after the access policy: %q, %v; want %q", got, err, demoSecretValue)
		}
	})
}

// doctorRun is one `podid doctor -o json`.
type doctorRun struct {
	report doctor.Report
	out    string
	err    error
}

func (d doctorRun) finding(check, object string) (doctor.Finding, bool) {
	for _, f := range d.report.Findings {
		if f.Check == check && f.Object == object {
			return f, true
		}
	}
	return doctor.Finding{}, false
}

// doctorPod runs podid doctor on one pod of the run in dir.
func doctorPod(t *testing.T, dir, pod string, extra ...string) doctorRun {
	t.Helper()
	r := run(t, nil, append([]string{"doctor", "--state-dir", dir, "--pod", pod, "-o", "json"}, extra...)...)
	d := doctorRun{out: r.stdout + r.stderr, err: r.err}
	if err := json.Unmarshal([]byte(r.stdout), &d.report); err != nil {
		t.Fatalf("podid doctor -o json printed no report (%v):\n%s", err, d.out)
	}
	return d
}

// doctorVault is doctorPod asking about the seed's vault.
func doctorVault(t *testing.T, dir, pod string) doctorRun {
	t.Helper()
	return doctorPod(t, dir, pod, "--vault", "kv-westus2-aks")
}

func kubeClient(t *testing.T, kubeconfig string) client.Client {
	t.Helper()
	cfg, err := kubeclient.Config(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: kubeclient.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls check for up to 90 seconds: mic retries a refused
// identity within its --cloud-resync (10s under podid up --token-mode node).
func waitFor(t *testing.T, what string, check func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// assignmentIs checks the status (and, unless empty, the Ready reason) of
// the pod's AzureAssignedIdentity.
func assignmentIs(ctx context.Context, c client.Client, ns, pod, status, reason string) error {
	var list podidv1.AzureAssignedIdentityList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, a := range list.Items {
		if a.Spec.Pod != pod {
			continue
		}
		got := ""
		for _, cond := range a.Status.Conditions {
			if cond.Type == "Ready" {
				got = cond.Reason
			}
		}
		if code := assignstatus.CodeOf(a.Status); code != "" {
			got += "/" + code // the ARM code starts the message
		}
		if a.Status.Status != status || (reason != "" && got != reason) {
			return fmt.Errorf("%s is %s with reason %q", a.Name, a.Status.Status, got)
		}
		return nil
	}
	return errors.New("no assignment yet")
}

// warned checks for a Warning event with reason on object obj whose
// message holds fix, naming obj's UID so kubectl describe shows it.
func warned(ctx context.Context, c client.Client, ns, obj, reason, fix string) error {
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.Type == corev1.EventTypeWarning && e.InvolvedObject.Name == obj && e.InvolvedObject.UID != "" && e.Reason == reason && containsFold(e.Message, fix) {
			return nil
		}
	}
	return fmt.Errorf("none among %d events", len(events.Items))
}

// containsFold is strings.Contains ignoring case: Azure writes linked
// scopes in lower case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// getSecret GETs the demo secret with token, trusting the cloud's CA, and
// returns the status and body as any Key Vault client would see them.
func getSecret(rec *plan.Record, token string) (int, string, error) {
	ca, err := os.ReadFile(rec.CloudCA)
	if err != nil {
		return 0, "", err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return 0, "", errors.New("no certificate in the cloud CA bundle")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	vault := strings.TrimRight(rec.Vaults[rec.Demo.Vault], "/")
	req, err := http.NewRequest(http.MethodGet, vault+"/secrets/"+rec.Demo.Secret+"?api-version=7.4", nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}
