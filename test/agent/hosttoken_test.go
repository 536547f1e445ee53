package agent

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// TestHostTokenServesHostComponentsOnly: /host/token names the pod in
// headers, so only host components may call it. One on the node's loopback
// address gets the bound pod's token in aad-pod-identity's shape; a pod
// naming another pod gets nothing, although on this test cluster pod
// addresses are loopback addresses too.
func TestHostTokenServesHostComponentsOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	id := managedIdentity(t, fedIdentity)
	create(ctx, t, azureIdentity(ns, "fed", id, ""), binding(ns, "b", "fed", "app"))
	node := s.env.Nodes[0].Name
	bound := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "bound", Node: node,
		Labels: map[string]string{podidv1.SelectorLabel: "app"}})
	other := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "other", Node: node})
	res := freshResource("host")
	path := "/host/token?resource=" + res
	headers := map[string]string{"podns": ns, "podname": bound.Name}

	t.Run("A host component on loopback gets the named pod's token", func(t *testing.T) {
		host := caller{source: "127.0.0.1", agent: s.agents[node].addr}
		got := host.getWith(t, path, headers)
		if got.status != 200 {
			t.Fatalf("answer = %d %s", got.status, got.body)
		}
		var body struct {
			Token struct {
				AccessToken string `json:"access_token"`
			} `json:"token"`
			ClientID string `json:"clientid"`
		}
		if err := json.Unmarshal([]byte(got.body), &body); err != nil {
			t.Fatalf("decode %s: %v", got.body, err)
		}
		if body.ClientID != id.ClientID {
			t.Errorf("clientid = %q, want %q", body.ClientID, id.ClientID)
		}
		checkToken(t, body.Token.AccessToken, res, identityPrincipal(id))
	})
	t.Run("A pod naming another pod gets nothing", func(t *testing.T) {
		got := podCaller(t, other).getWith(t, path, headers)
		want := imdsErrorBody(t, "access_denied", "/host/token is served to host components only, and "+other.Status.PodIP+" is the address of pod "+ns+"/other")
		if got.status != 403 || got.body != want {
			t.Errorf("answer = %d %s\nwant     403 %s", got.status, got.body, want)
		}
	})
}
