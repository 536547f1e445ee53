package clients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/podid/podid/internal/testenv"
)

// TestClientMatrix puts a node and a pod in network namespaces joined by a
// veth pair. The node namespace runs the cluster, the cloud, mic and the
// real agent, which installs its iptables rules there; the pod is bound to
// exactly one identity, a federated user-assigned managed identity. From
// the pod namespace, each real client library asks
// http://169.254.169.254/metadata/identity/oauth2/token for a Key Vault
// token with no selector, with client_id, with object_id and with
// msi_res_id, and must get a token for that identity.
//
// It needs root, iproute2, iptables, Debian's python3-azure and nodejs with
// npm (the test installs @azure/identity@4 into ~/.cache/podid/npm).
func TestClientMatrix(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	clients := []imdsClient{goClient(t), pythonClient(t), jsClient(t)}

	id := fmt.Sprintf("%d", os.Getpid()%100000)
	node, pod := "ncl"+id, "pcl"+id
	host := "hcl" + id
	for _, ns := range []string{node, pod} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		ip(t, "-n", ns, "link", "set", "lo", "up")
	}
	ip(t, "link", "add", host, "type", "veth", "peer", "name", "ccl"+id)
	ip(t, "link", "set", host, "netns", node)
	ip(t, "link", "set", "ccl"+id, "netns", pod)
	ip(t, "-n", pod, "link", "set", "ccl"+id, "name", "eth0")
	ip(t, "-n", pod, "link", "set", "eth0", "up")
	ip(t, "-n", node, "addr", "add", nodeIP.String()+"/32", "dev", host)
	ip(t, "-n", node, "link", "set", host, "up")

	agentLog := filepath.Join(t.TempDir(), "agent.log")
	ready, stop := startNode(t, node, agentLog)
	defer stop()
	podIP, ident := ready[0], identity{clientID: ready[1], objectID: ready[2], resourceID: ready[3]}
	ip(t, "-n", pod, "addr", "add", podIP+"/32", "dev", "eth0")
	ip(t, "-n", pod, "route", "add", nodeIP.String()+"/32", "dev", "eth0")
	ip(t, "-n", pod, "route", "add", "default", "via", nodeIP.String(), "dev", "eth0")
	ip(t, "-n", node, "route", "add", podIP+"/32", "dev", host)

	values := map[selector]string{noID: "", clientID: ident.clientID, objectID: ident.objectID, msiResID: ident.resourceID}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tVERSION\tSELECTOR\tRESULT")
	failed := false
	for _, c := range clients {
		for _, sel := range selectors {
			start := time.Now()
			result := ask(t, c, pod, sel, values[sel], ident)
			if result != "ok" {
				failed = true
				t.Errorf("%s %s, selector %s: %s", c.name, c.version, sel, result)
				result = "FAIL: " + firstLine(result)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\n", c.name, c.version, sel, result, time.Since(start).Round(10*time.Millisecond))
		}
	}
	// Negative controls: a selector naming an identity the pod is not bound
	// to must get no token, which shows each client does send its selector.
	others := map[selector]string{
		clientID: "00000000-0000-0000-0000-0000000000c1",
		objectID: "00000000-0000-0000-0000-0000000000d1",
		msiResID: "/subscriptions/" + subscriptionID + "/resourceGroups/" + nodeGroup +
			"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/not-bound",
	}
	for _, c := range clients {
		for _, sel := range selectors[1:] {
			start := time.Now()
			result := "refused"
			if got := ask(t, c, pod, sel, others[sel], ident); !strings.HasPrefix(got, "no token") {
				failed = true
				t.Errorf("%s %s, selector %s naming an unbound identity: want no token, got %s", c.name, c.version, sel, got)
				result = "FAIL: got a token"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s (unbound)\t%s (%s)\n", c.name, c.version, sel, result, time.Since(start).Round(10*time.Millisecond))
		}
	}
	_ = tw.Flush()
	t.Logf("client matrix (pod %s, identity client_id %s):\n%s", podIP, ident.clientID, table.String())
	if failed || os.Getenv(showLogsEnv) != "" {
		raw, _ := os.ReadFile(agentLog)
		t.Logf("agent log ends:\n%s", tail(string(raw), 60))
	}
}

// showLogsEnv, when set, prints the agent's log even when every cell passes.
const showLogsEnv = "PODID_CLIENTS_LOGS"

// identity is the pod's one bound identity.
type identity struct{ clientID, objectID, resourceID string }

// ask runs one cell and returns "ok" or what went wrong.
func ask(t *testing.T, c imdsClient, ns string, sel selector, value string, want identity) string {
	ctx, cancel := context.WithTimeout(context.Background(), cellLimit)
	defer cancel()
	out, err := c.ask(ctx, ns, sel, value).CombinedOutput()
	var token string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "TOKEN "); ok {
			token = strings.TrimSpace(rest)
		}
	}
	if token == "" {
		return fmt.Sprintf("no token (%v): %s", err, strings.TrimSpace(string(out)))
	}
	claims, err := jwtClaims(token)
	if err != nil {
		return err.Error()
	}
	var problems []string
	check := func(claim, want string) {
		if got, _ := claims[claim].(string); !strings.EqualFold(got, want) {
			problems = append(problems, fmt.Sprintf("%s = %q, want %q", claim, got, want))
		}
	}
	check("aud", strings.TrimSuffix(scope, "/.default"))
	check("appid", want.clientID)
	check("oid", want.objectID)
	check("xms_mirid", want.resourceID)
	if len(problems) > 0 {
		return "wrong token: " + strings.Join(problems, "; ")
	}
	return "ok"
}

// startNode runs this binary as the node inside namespace ns and returns
// the fields after READY (pod IP, client ID, object ID, resource ID) and a
// func that stops the node and waits for it.
func startNode(t *testing.T, ns, agentLog string) ([]string, func()) {
	t.Helper()
	helper := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), nodeEnv+"=1", "PODID_CLIENTS_AGENT_LOG="+agentLog)
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "node.log")
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = logf
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- helper.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				raw, _ := os.ReadFile(logFile)
				t.Errorf("node side: %v\n%s", err, tail(string(raw), 30))
			}
		case <-time.After(30 * time.Second):
			_ = helper.Process.Kill()
			<-done
			t.Errorf("the node side did not stop within 30s")
		}
		_ = logf.Close()
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if f := strings.Fields(lines.Text()); len(f) == 5 && f[0] == "READY" {
			go func() { // keep the pipe drained
				for lines.Scan() {
				}
			}()
			return f[1:], stop
		}
		t.Logf("node: %s", lines.Text())
	}
	stop()
	raw, _ := os.ReadFile(logFile)
	t.Fatalf("the node namespace never got ready; its log ends:\n%s", tail(string(raw), 30))
	return nil, nil
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// jwtClaims decodes a token's claims without checking its signature (the
// cloud's own tests do that); the test only checks whose token it is.
func jwtClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("access token is not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode token payload: %w", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("decode token claims: %w", err)
	}
	return claims, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
