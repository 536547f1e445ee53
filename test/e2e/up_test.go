package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// The built-in world's demo identity and secret (internal/plan/world.yaml).
const (
	demoClientID    = "248b3285-aa4c-436f-b0da-8ab35ba2d14a"
	demoPrincipalID = "bfcf34d4-cde4-48dd-b7d7-6c3db4ff884c"
	demoSecretValue = "grafana-admin"
)

func TestUpTokenDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() { _ = run(t, nil, "down", "--state-dir", dir) })

	cold := must(t, "up", "--detach", "--state-dir", dir)
	rec := readRecord(t, dir)
	t.Logf("cold start (fresh state folder, first run of this binary): podid up --detach took %s (ready after %.1fs)", cold.took.Round(time.Millisecond), rec.StartSeconds)
	for _, want := range []string{"kube-apiserver", "running", "nmi aks-system-12583646-vmss000001", "podid token --state-dir " + dir} {
		if !strings.Contains(cold.stdout, want) {
			t.Fatalf("podid up printed no %q:\n%s", want, cold.stdout)
		}
	}

	t.Run("a second podid up reports the first", func(t *testing.T) {
		for _, args := range [][]string{{"up", "--state-dir", dir}, {"up", "--detach", "--state-dir", dir}} {
			r := run(t, nil, args...)
			want := fmt.Sprintf("already running with state folder %s: pid %d", dir, rec.Supervisor.PID)
			if r.err == nil || !strings.Contains(r.stderr, want) {
				t.Fatalf("podid %v: err %v, stderr %q; want %q", args, r.err, r.stderr, want)
			}
		}
	})

	t.Run("status lists every process as running", func(t *testing.T) {
		out := must(t, "status", "--state-dir", dir).stdout
		for _, p := range rec.All() {
			if !strings.Contains(out, p.Name) {
				t.Fatalf("status lacks %s:\n%s", p.Name, out)
			}
		}
		if strings.Contains(out, "stopped") {
			t.Fatalf("status shows a stopped process:\n%s", out)
		}
	})

	var rawToken string
	t.Run("each bound pod gets a token of the bound identity for the resource", func(t *testing.T) {
		for _, pod := range rec.Demo.BoundPods() {
			out := must(t, "token", "--state-dir", dir, "--pod", pod, "--resource", "https://vault.azure.net", "-o", "claims").stdout
			var claims map[string]any
			if err := json.Unmarshal([]byte(out), &claims); err != nil {
				t.Fatalf("claims of %s are not JSON: %v\n%s", pod, err, out)
			}
			if claims["aud"] != "https://vault.azure.net" || claims["appid"] != demoClientID || claims["oid"] != demoPrincipalID {
				t.Fatalf("claims of %s: aud %v appid %v oid %v; want the vault and identity %s", pod, claims["aud"], claims["appid"], claims["oid"], demoClientID)
			}
			if mirid, _ := claims["xms_mirid"].(string); !strings.HasSuffix(mirid, "/userAssignedIdentities/aks-aad-user-identity") {
				t.Fatalf("xms_mirid %q is not the bound identity", mirid)
			}
			if strings.Contains(out, "eyJ") {
				t.Fatalf("claims output holds a JWT:\n%s", out)
			}
		}
		rawToken = strings.TrimSpace(must(t, "token", "--state-dir", dir, "--pod", rec.Demo.BoundPods()[0],
			"--resource", "https://vault.azure.net", "--client-id", demoClientID, "-o", "raw").stdout)
	})

	t.Run("the raw token reads the demo secret from the embedded Key Vault", func(t *testing.T) {
		if rawToken == "" {
			t.Fatal("no raw token: the case before this one failed")
		}
		got, err := readSecret(rec, rawToken)
		if err != nil {
			t.Fatal(err)
		}
		if got != demoSecretValue {
			t.Fatalf("secret value %q, want %q", got, demoSecretValue)
		}
	})

	t.Run("an unlabelled pod gets no token", func(t *testing.T) {
		r := run(t, nil, "token", "--state-dir", dir, "--pod", rec.Demo.Namespace+"/"+plan.DemoUnboundPod, "--resource", "https://vault.azure.net", "--timeout", "20s")
		if r.err == nil || r.stdout != "" || !strings.Contains(r.stderr, "no identity is assigned to pod") {
			t.Fatalf("err %v, stdout %q, stderr %q; want a refusal from the agent", r.err, r.stdout, r.stderr)
		}
	})

	t.Run("each agent serves its own and the Go runtime's metrics", func(t *testing.T) {
		for node, addr := range rec.Agents {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get("http://" + net.JoinHostPort(host, strconv.Itoa(plan.AgentMetricsPort)) + "/metrics")
			if err != nil {
				t.Fatalf("agent of %s: %v", node, err)
			}
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			for _, want := range []string{"go_goroutines ", "process_open_fds ", "process_resident_memory_bytes ", "podid_"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("agent of %s: /metrics lacks %q", node, want)
				}
			}
		}
	})

	t.Run("no log holds a token or a secret", func(t *testing.T) {
		if rawToken == "" {
			t.Fatal("no raw token: an earlier case failed")
		}
		adminToken, err := os.ReadFile(filepath.Join(filepath.Dir(rec.CloudCA), "admin-token"))
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string]string{
			"the access token podid token printed": rawToken,
			"mic's client secret":                  "podid-mic-local-secret",
			"the cloud's admin token":              strings.TrimSpace(string(adminToken)),
		}
		jwtLike := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
		logs := 0
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
				return err
			}
			logs++
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for what, s := range secrets {
				if strings.Contains(string(b), s) {
					t.Errorf("%s holds %s", path, what)
				}
			}
			if m := jwtLike.Find(b); m != nil {
				t.Errorf("%s holds a JWT: %.40s…", path, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if logs < 5 {
			t.Fatalf("found %d logs under %s; want the control plane's, the cloud's, mic's and every agent's", logs, dir)
		}
		t.Logf("%d logs checked", logs)
	})

	down := must(t, "down", "--state-dir", dir)
	t.Logf("podid down took %s: %s", down.took.Round(time.Millisecond), strings.TrimSpace(down.stdout))
	for _, p := range rec.All() {
		if runstate.Alive(p) {
			t.Errorf("%s (pid %d) still runs after podid down", p.Name, p.PID)
		}
	}
	noneLeft(t, dir)
	if r := run(t, nil, "status", "--state-dir", dir); r.err == nil {
		t.Fatalf("status after down succeeded:\n%s", r.stdout)
	}

	warm := must(t, "up", "--detach", "--state-dir", dir)
	rec = readRecord(t, dir)
	t.Logf("warm start (same state folder, binaries cached): podid up --detach took %s (ready after %.1fs)", warm.took.Round(time.Millisecond), rec.StartSeconds)
	must(t, "token", "--state-dir", dir, "--pod", rec.Demo.BoundPods()[0], "--resource", "https://vault.azure.net")
	must(t, "down", "--state-dir", dir)
	noneLeft(t, dir)
}

func TestFailedStartLeavesNothingRunning(t *testing.T) {
	// Real etcd and kube-apiserver, but a kwok that exits at once: the start
	// fails after the control plane, the cloud, mic and the agents run.
	bin, err := controlplane.EnsureBinaries(t.Context(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	for _, b := range append([]string{"etcd", "kube-apiserver"}, controlplane.ControllerBinaries...) {
		if err := os.Symlink(filepath.Join(bin, b), filepath.Join(fake, b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fake, "kwok"), []byte("#!/bin/sh\necho kwok refuses to start >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	r := run(t, []string{controlplane.BinDirEnv + "=" + fake}, "up", "--state-dir", dir)
	if r.err == nil || !strings.Contains(r.stderr, "kwok exited") || !strings.Contains(r.stderr, "stopped everything it had started") {
		t.Fatalf("err %v; stderr:\n%s", r.err, r.stderr)
	}
	noneLeft(t, dir)
	if _, err := os.Stat(plan.RecordFile(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("run record left behind: %v", err)
	}

	t.Run("a missing binary is named with the fix", func(t *testing.T) {
		empty := t.TempDir()
		r := run(t, []string{controlplane.BinDirEnv + "=" + empty}, "up", "--state-dir", dir, "--no-demo")
		if r.err == nil || !strings.Contains(r.stderr, "[etcd kube-apiserver kwok kube-scheduler kube-controller-manager] missing from "+empty) || !strings.Contains(r.stderr, "unset "+controlplane.BinDirEnv) {
			t.Fatalf("err %v; stderr:\n%s", r.err, r.stderr)
		}
		noneLeft(t, dir)
	})
}

func readRecord(t testing.TB, dir string) *plan.Record {
	t.Helper()
	rec, err := runstate.Read(plan.RecordFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Ready || rec.Demo == nil || len(rec.Demo.BoundPods()) == 0 {
		t.Fatalf("record not ready or without demo: %+v", rec)
	}
	return rec
}

// readSecret gets the demo secret's value with a plain HTTPS request.
func readSecret(rec *plan.Record, token string) (string, error) {
	status, body, err := getSecret(rec, token)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("GET secret %s: %d %s", rec.Demo.Secret, status, body)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return "", fmt.Errorf("GET secret %s: %w", rec.Demo.Secret, err)
	}
	return v.Value, nil
}
