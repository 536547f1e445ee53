package clients

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
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
// az CLI logs in with the identity (az login --identity [--username]),
// which also lists the subscriptions it sees through Resource Manager, then
// prints a Key Vault token (az account get-access-token).
//
// It needs root, iproute2, iptables, Debian's python3-azure and azure-cli,
// and nodejs with npm (the test installs @azure/identity@4 into
// ~/.cache/podid/npm).
func TestClientMatrix(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	az := &azCloud{}
	clients := []imdsClient{goClient(t), pythonClient(t), jsClient(t), azClient(t, az)}

	id := fmt.Sprintf("%d", os.Getpid()%100000)
	node, pod := "ncl"+id, "pcl"+id
	host := "hcl" + id
	for _, ns := range []string{node, pod} {
		netnode.AddNetns(t, ns)
	}
	netnode.LinkPod(t, node, pod, host, "ccl"+id, nodeIP)
	podHosts(t, pod, nodeIP)

	agentLog := filepath.Join(t.TempDir(), "agent.log")
	ready, stop := startNode(t, node, agentLog)
	defer stop()
	podIP, ident := ready[0], identity{clientID: ready[1], objectID: ready[2], resourceID: ready[3]}
	az.url, az.caFile = "https://localhost:"+ready[4], ready[5]
	netnode.RoutePod(t, node, pod, host, podIP, nodeIP)

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
		t.Logf("agent log ends:\n%s", netnode.FileTail(agentLog, 60))
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
// the fields after READY (pod IP, client ID, object ID, resource ID, cloud
// port, cloud CA file) and a
// func that stops the node and waits for it.
func startNode(t *testing.T, ns, agentLog string) ([]string, func()) {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "node.log")
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	const grace = 30 * time.Second
	helper := netnode.StartHelper(t, ns, []string{nodeEnv + "=1", "PODID_CLIENTS_AGENT_LOG=" + agentLog}, logf, grace)
	stop := func() {
		if err := helper.Stop(grace); err != nil {
			t.Errorf("node side: %v\n%s", err, netnode.FileTail(logFile, 30))
		}
	}
	for line := range helper.Lines {
		if f := strings.Fields(line); len(f) == 7 && f[0] == "READY" {
			go func() { // keep the pipe drained
				for range helper.Lines {
				}
			}()
			return f[1:], stop
		}
		t.Logf("node: %s", line)
	}
	stop()
	t.Fatalf("the node namespace never got ready; its log ends:\n%s", netnode.FileTail(logFile, 30))
	return nil, nil
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
