package agent

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// TestMetadataTrafficInNetworkNamespaces puts a node and three pods in
// network namespaces joined by veth pairs. The node namespace runs the
// cluster, the cloud, mic and the real agent, which installs its iptables
// rules there. From the pod namespaces, curl calls
// http://169.254.169.254/metadata/identity/oauth2/token as an unmodified
// application would:
//
//   - pod A, bound to an identity, gets its token;
//   - pod B, spoofing pod A's IP from its own interface, gets nothing;
//   - pod C, unknown to the cluster, gets no token;
//   - once the agent stops, its rules stay and pod A gets no answer;
//     `nmi cleanup` (agent.Cleanup) then removes every rule.
//
// It needs root, iproute2, iptables and curl; CI must have them.
func TestMetadataTrafficInNetworkNamespaces(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	node := "pdn" + id
	pods := map[string]string{"a": "pda" + id, "b": "pdb" + id, "c": "pdc" + id}
	for _, ns := range append([]string{node}, pods["a"], pods["b"], pods["c"]) {
		netnode.AddNetns(t, ns)
	}
	for name, ns := range pods {
		netnode.LinkPod(t, node, ns, "h"+name+id, "c"+name+id, netnsNodeIP)
	}

	logFile := filepath.Join(t.TempDir(), "node.log")
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	helper := netnode.StartHelper(t, node, []string{netnsNodeEnv + "=1"}, logf, 30*time.Second)
	var podA, podB, oid string
	for line := range helper.Lines {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "READY" {
			podA, podB, oid = f[1], f[2], f[3]
			break
		}
		t.Logf("node: %s", line)
	}
	if podA == "" {
		t.Fatalf("the node namespace never got ready; its log ends:\n%s", netnode.FileTail(logFile, 30))
	}
	podC := "10.251.1.200"
	for name, addr := range map[string]string{"a": podA, "b": podB, "c": podC} {
		netnode.RoutePod(t, node, pods[name], "h"+name+id, addr, netnsNodeIP)
	}

	const resource = "https://vault.azure.net"
	status, body := metadataCall(t, pods["a"], "")
	claims := jwtClaims(t, body)
	t.Logf("pod A (%s): %d, token for aud %v, oid %v", podA, status, claims["aud"], claims["oid"])
	if status != 200 || claims["aud"] != resource || claims["oid"] != oid {
		t.Errorf("pod A: status %d, aud %v, oid %v; want 200 with its identity %s", status, claims["aud"], claims["oid"], oid)
	}

	netnode.IP(t, "-n", pods["b"], "addr", "add", podA+"/32", "dev", "eth0")
	status, body = metadataCall(t, pods["b"], podA)
	t.Logf("pod B spoofing %s: status %d (0: no answer), body %q", podA, status, body)
	if status != 0 || strings.Contains(body, "access_token") {
		t.Errorf("pod B spoofing pod A's address got status %d: %s", status, body)
	}

	status, body = metadataCall(t, pods["c"], "")
	t.Logf("unknown pod C (%s): status %d, body %q", podC, status, body)
	if status == 200 || strings.Contains(body, "access_token") {
		t.Errorf("unknown pod C got status %d: %s", status, body)
	}

	// The agent stops, as on every rollout, drain or upgrade: its rules
	// stay, so pod A is refused instead of reaching the node's IMDS.
	expect := func(cmd, answer string) {
		t.Helper()
		helper.Send(cmd)
		for line := range helper.Lines {
			if line == answer {
				return
			}
			if strings.HasPrefix(line, "FAILED") {
				t.Fatalf("node side, on %s: %s", cmd, line)
			}
			t.Logf("node: %s", line)
		}
		t.Fatalf("the node side never answered %s to %s; its log ends:\n%s", answer, cmd, netnode.FileTail(logFile, 30))
	}
	expect("stop-agent", "AGENT-STOPPED")
	saved, _ := exec.Command("ip", "netns", "exec", node, "iptables-save").CombinedOutput()
	for _, chain := range []string{"PODID-METADATA", "PODID-METADATA-GUARD", "PODID-AGENT-GUARD"} {
		if !strings.Contains(string(saved), "-j "+chain) {
			t.Errorf("the jump to %s did not outlive the agent:\n%s", chain, saved)
		}
	}
	status, body = metadataCall(t, pods["a"], "")
	t.Logf("pod A with the agent stopped: status %d (0: no answer), body %q", status, body)
	if status != 0 || strings.Contains(body, "access_token") {
		t.Errorf("pod A with no agent serving got status %d: %s", status, body)
	}

	// Uninstall removes every rule and chain.
	expect("cleanup", "CLEANED")
	if out, _ := exec.Command("ip", "netns", "exec", node, "iptables-save").CombinedOutput(); strings.Contains(string(out), "PODID") {
		t.Errorf("cleanup left rules behind:\n%s", out)
	}
	if err := helper.Stop(2 * time.Minute); err != nil {
		t.Errorf("node side: %v\n%s", err, netnode.FileTail(logFile, 30))
	}
}

// metadataCall runs curl in namespace ns, from address from if set, and
// returns the HTTP status (0 when no answer came) and the body.
func metadataCall(t *testing.T, ns, from string) (int, string) {
	t.Helper()
	args := []string{"netns", "exec", ns, "curl", "-s", "-m", "5", "-H", "Metadata: true", "-w", "\n%{http_code}"}
	if from != "" {
		args = append(args, "--interface", from)
	}
	args = append(args, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net")
	out, _ := exec.Command("ip", args...).CombinedOutput()
	body, code, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if i := strings.LastIndexByte(string(out), '\n'); i >= 0 {
		body, code = strings.TrimSpace(string(out[:i])), strings.TrimSpace(string(out[i+1:]))
	}
	var status int
	_, _ = fmt.Sscan(code, &status)
	return status, body
}

// jwtClaims decodes the claims of the access token in an IMDS answer
// without checking its signature (test/agent's other tests do that).
func jwtClaims(t *testing.T, body string) map[string]any {
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil || answer.AccessToken == "" {
		t.Logf("no token in %q", body)
		return map[string]any{}
	}
	parts := strings.Split(answer.AccessToken, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("token claims: %v", err)
	}
	return claims
}
