package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/plan"
)

// The kubelet service principal of the expired-secret case: AcrPull on the
// registry, one secret that expired.
const (
	kubeletSPName = "aks-kubelet-sp"
	kubeletSPID   = "0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
)

// Seeds 000 and 001 ("in the case of principal as the identity, its
// secret must NOT expire") on the real node: a service-principal cluster
// (podid up --kubelet-service-principal, azure.json holding the app's ID
// and secret, as az aks create --service-principal writes it) whose
// secret expired. The credential provider's sign-in fails with
// AADSTS7000222, which only the kubelet's log shows (asserted there); the
// pod's event is the registry's anonymous 401. podid doctor reads the
// kubelet's log and names the expired secret, with AADSTS7000222 in its
// evidence; podid check-acr says the same. The fix: podid cloud sp
// credential reset (az ad sp credential reset) and the new secret written
// into the node's azure.json (what az aks update-credentials does on
// AKS); the kubelet's next retry runs the provider again and the pod runs.
func TestPullDoctorExpiredSP(t *testing.T) {
	_, rec := upWithARealNodeArgs(t, "--world", expiredSPWorld(t), "--kubelet-service-principal", kubeletSPName)
	if rec.ACR == nil || rec.ACR.Registry == "" {
		t.Fatalf("up.json records no registry: %+v", rec.ACR)
	}
	cfg, err := acrcred.LoadAzureConfig(rec.ACR.AzureConfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ManagedIdentity() || cfg.AADClientID != kubeletSPID {
		t.Fatalf("the node's azure.json names %s; want service principal %s", cfg.Describe(), kubeletSPID)
	}
	ref := rec.ACR.ImageRef(image.NameBusybox)
	pc := newPullCase(t, rec)

	pc.apply("expired-sp", acrPod("expired-sp", ref))
	ev := pc.failed("expired-sp", "401 Unauthorized")
	// The provider gave nothing, so only the anonymous token was asked for.
	if !strings.Contains(ev, "failed to fetch anonymous token") || strings.Contains(ev, "failed to fetch oauth token") {
		t.Errorf("the kubelet's event is not the anonymous 401 alone: %s", ev)
	}
	if strings.Contains(ev, "AADSTS") {
		t.Errorf("the pod's event carries Azure AD's code, which the kubelet only logs: %s", ev)
	}
	line := kubeletLogLine(t, rec, "Failed getting credential from external registry credential provider", "AADSTS7000222")
	t.Logf("the kubelet's log: %s", line)

	resetFix := "podid cloud sp credential reset --state-dir " + rec.StateDir + " --id " + kubeletSPID + " --append"
	pc.doctor("expired-sp", "image-pull", "Pod default/expired-sp",
		"no credentials because its credential provider failed", "has expired (AADSTS7000222)",
		"kubelet log of node ", "AADSTS7000222: The provided client secret keys for app '"+kubeletSPID+"' are expired", "fix: "+resetFix)
	checkSP := func(want string) {
		t.Helper()
		args := []string{"check-acr", "--image", ref, "--azure-config", rec.ACR.AzureConfig, "--imds-endpoint", rec.ACR.IMDSEndpoint,
			"--ca-bundle", rec.CloudCA, "--front-door", rec.ACR.FrontDoor, "--authority-host", rec.CloudURL + "/"}
		r := run(t, nil, args...)
		t.Logf("$ podid check-acr --image %s … (%s, %v)\n%s%s", ref, r.took, r.err, r.stdout, r.stderr)
		switch {
		case want == "" && r.err != nil:
			t.Errorf("podid check-acr failed on a pull that works")
		case want != "" && (r.err == nil || !strings.Contains(r.stdout+r.stderr, want)):
			t.Errorf("podid check-acr: err %v; want a failure with %q", r.err, want)
		}
	}
	checkSP("AADSTS7000222")

	// The fix: a new secret (az ad sp credential reset), then into the
	// node's azure.json, as az aks update-credentials writes it.
	r := must(t, strings.Fields(resetFix)[1:]...)
	var reset struct{ AppID, Password, Tenant string }
	if err := json.Unmarshal([]byte(r.stdout), &reset); err != nil || reset.Password == "" || reset.AppID != kubeletSPID {
		t.Fatalf("podid cloud sp credential reset printed no new secret for %s (%v)", kubeletSPID, err)
	}
	t.Logf("$ %s → a new secret for app %s (not shown)", resetFix, reset.AppID)
	rewriteSecret(t, rec.ACR.AzureConfig, reset.Password)
	pc.running("expired-sp")
	checkSP("")
}

// expiredSPWorld is podid up's built-in world plus the kubelet service
// principal, whose only secret expired, with AcrPull on the registry.
func expiredSPWorld(t *testing.T) string {
	t.Helper()
	world := string(plan.DefaultWorld)
	for _, edit := range [][2]string{
		{"    applications:\n", "    applications:\n      - name: " + kubeletSPName + "\n        appId: " + kubeletSPID +
			"\n        secrets:\n          - value: kubelet-sp-expired-secret\n            endDate: 2025-06-30T00:00:00Z\n"},
		{"    roleAssignments:\n", "    roleAssignments:\n      - principal: " + kubeletSPName + "\n        role: AcrPull\n        scope: registry/podidacr\n"},
	} {
		if strings.Count(world, edit[0]) != 1 {
			t.Fatalf("the built-in world has %d of %q, want 1", strings.Count(world, edit[0]), edit[0])
		}
		world = strings.Replace(world, edit[0], edit[1], 1)
	}
	file := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(file, []byte(world), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// kubeletLogLine waits for a line of the real node's kubelet log holding
// every word, and returns it.
func kubeletLogLine(t *testing.T, rec *plan.Record, words ...string) string {
	t.Helper()
	var logFile string
	for _, p := range rec.Processes {
		if strings.HasPrefix(p.Name, "kubelet ") {
			logFile = p.Log
		}
	}
	if logFile == "" {
		t.Fatalf("up.json records no kubelet process with a log: %+v", rec.Processes)
	}
	var found string
	waitFor(t, "the kubelet's log to say "+strings.Join(words, " … "), func(ctx context.Context) error {
		b, err := os.ReadFile(logFile)
		if err != nil {
			return err
		}
		text := string(b)
		i := strings.LastIndex(text, words[0])
		if i < 0 {
			return errors.New("no such line yet")
		}
		// klog writes a multi-line error as err=< … >: take the record.
		rec := text[strings.LastIndex(text[:i], "\n")+1:]
		if end := strings.Index(rec, "\n >"); end >= 0 {
			rec = rec[:end+3]
		} else if end := strings.Index(rec, "\n"); end >= 0 {
			rec = rec[:end]
		}
		for _, w := range words[1:] {
			if !strings.Contains(rec, w) {
				return fmt.Errorf("the latest line lacks %q: %s", w, rec)
			}
		}
		found = rec
		return nil
	})
	return found
}

// rewriteSecret puts secret in aadClientSecret of the azure.json at path,
// keeping every other field and the file's mode: what az aks
// update-credentials --reset-service-principal does on each node.
func rewriteSecret(t *testing.T, path, secret string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	m["aadClientSecret"] = secret
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
