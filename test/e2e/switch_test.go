package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/node"
)

// The switch from aad-pod-identity, as the README's "Coming from
// aad-pod-identity" tells it, on the real node. aad-pod-identity's
// footprint is there as it leaves it on a cluster: its v1.8 CRDs (camelCase
// only, no status subresource), seed 004's objects, an assignment its MIC
// wrote (in namespace default), and its NMI's chain aad-metadata on the
// node, DNATing pods' metadata traffic to a stand-in for its NMI that
// answers every request (aad-pod-identity's images are not run here).
//
//   - helm install podid over it: helm keeps the older CRDs (it never
//     touches existing ones); podid's mic replaces the old assignment with
//     its own; podid's agent does not redirect beside aad-pod-identity's
//     chain: it waits, not ready, saying why, with only its FORWARD guard
//     installed, while the labelled pod keeps its tokens from the old NMI.
//   - podid doctor names the older CRDs and the command that fixes them;
//     after that command it passes.
//   - aad-pod-identity's uninstall (its NMI removes its chain on SIGTERM):
//     podid's agent takes over within a second; the pod's requests are
//     refused, never sent to the node's IMDS, for that second, and its
//     tokens come from podid after it.
//   - Every object of aad-pod-identity's is still there, unchanged, and
//     seed 004's workload reads its secret through podid.
func TestSwitchFromAADPodIdentity(t *testing.T) {
	e := upForTheChart(t)
	k := e.k
	const ns = "aad-pod-identity-poc"

	// aad-pod-identity's CRDs in place of podid's (podid up installed
	// podid's), and the seed's objects stored through them.
	if out, err := k("replace", "-f", "testdata/aad-pod-identity-crds.yaml"); err != nil {
		t.Fatalf("kubectl replace aad-pod-identity's CRDs: %v\n%s", err, out)
	}
	if out, err := k("apply", "-f", "../integration/testdata/seed004.yaml"); err != nil {
		t.Fatalf("kubectl apply seed 004: %v\n%s", err, out)
	}
	specsBefore := podIdentitySpecs(t, k)

	layout, err := node.NewLayout(0, "")
	if err != nil {
		t.Fatal(err)
	}
	imdsHits := e.nodeIMDSStandIn(t)
	aad := aadNMIStandIn(t, layout.NodeIP.String())

	if out, err := k("-n", ns, "run", "prober", "--image=busybox", "--restart=Never",
		"--labels=aadpodidbinding=bind-user-identity-keyvault", "--command", "--", "sh", "-c", proberScript); err != nil {
		t.Fatalf("kubectl run prober: %v\n%s", err, out)
	}
	waitFor(t, "the prober's tokens from aad-pod-identity's NMI", func(ctx context.Context) error {
		out, err := k("-n", ns, "logs", "prober")
		if err != nil || !strings.Contains(out, "ok") || aad.served.Load() == 0 {
			return fmt.Errorf("prober log %q (%v); the old NMI served %d", lastLines(out, 2), err, aad.served.Load())
		}
		return nil
	})
	// The assignment aad-pod-identity's MIC wrote for the prober: named
	// <pod>-<namespace>-<identity>, in namespace default, with the
	// identity and the binding embedded.
	oldAssignment := "prober-" + ns + "-aad-user-identity"
	assignmentFile := filepath.Join(t.TempDir(), "assignment.json")
	if err := os.WriteFile(assignmentFile, []byte(aadAssignment(oldAssignment, ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := k("create", "-f", assignmentFile); err != nil {
		t.Fatalf("create aad-pod-identity's assignment: %v\n%s", err, out)
	}

	// helm install podid over it.
	if out, err := e.h("install", "podid", "../../charts/podid", "-n", "kube-system", "-f", e.rec.Chart.ValuesFile); err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	if out, err := k("-n", "kube-system", "rollout", "status", "deployment/podid-mic", "--timeout=90s"); err != nil {
		t.Fatalf("mic: %v\n%s", err, out)
	}
	waitFor(t, "podid's agent to wait beside aad-pod-identity's chain", func(ctx context.Context) error {
		out, _ := k("-n", "kube-system", "logs", "daemonset/podid-nmi")
		if !strings.Contains(out, "aad-pod-identity's NMI owns the metadata redirect on this node") {
			return fmt.Errorf("agent log:\n%s", lastLines(out, 5))
		}
		return nil
	})
	ready, _ := k("-n", "kube-system", "get", "pods", "-l", "app.kubernetes.io/component=nmi", "-o", "jsonpath={.items[*].status.containerStatuses[0].ready}")
	if ready != "false" {
		t.Errorf("podid's agent beside aad-pod-identity's chain: ready %q; want false", ready)
	}
	rules := iptablesSave(t)
	if !strings.Contains(rules, ":"+netrules.ForwardGuard) || strings.Contains(rules, ":"+netrules.NATChain+" ") {
		t.Errorf("the waiting agent should install its FORWARD guard and no redirect:\n%s", rules)
	}
	waitFor(t, "podid's mic to replace aad-pod-identity's assignment", func(ctx context.Context) error {
		old, _ := k("-n", "default", "get", "azureassignedidentity", oldAssignment, "-o", "name", "--ignore-not-found")
		own, err := k("-n", ns, "get", "azureassignedidentity", oldAssignment, "-o", "jsonpath={.status.status}")
		if strings.TrimSpace(old) != "" || err != nil || own != "Assigned" {
			return fmt.Errorf("aad-pod-identity's: %q; podid's: %q (%v)", old, own, err)
		}
		return nil
	})
	waitFor(t, "mic to explain the pruned token mode", func(ctx context.Context) error {
		out, _ := k("-n", "kube-system", "logs", "-l", "app.kubernetes.io/component=mic", "--tail=-1")
		if !strings.Contains(out, "azureassignedidentities.aadpodidentity.k8s.io is an older aad-pod-identity's") {
			return fmt.Errorf("mic log:\n%s", lastLines(out, 5))
		}
		return nil
	})
	served := aad.served.Load()
	time.Sleep(time.Second)
	if aad.served.Load() == served {
		t.Error("the prober's requests stopped reaching aad-pod-identity's NMI once podid was installed")
	}

	// podid doctor names the older CRDs and the fix; the fix, run as
	// printed, makes it pass.
	d := doctorCluster(t, e.dir)
	fix := ""
	for _, f := range d.report.Findings {
		if f.Check == "legacy-crds" && f.Status == doctor.Fail {
			fix = f.Fix
		}
	}
	if !strings.HasPrefix(fix, "kubectl apply -f config/crd") {
		t.Fatalf("podid doctor should fail legacy-crds with a kubectl apply fix over aad-pod-identity's CRDs:\n%s", d.out)
	}
	t.Logf("podid doctor: legacy-crds fails; fix: %s", fix)
	// Run as printed, from the repository's root.
	args := strings.Fields(strings.Replace(strings.TrimPrefix(fix, "kubectl "), "config/crd", "../../config/crd", 1))
	if out, err := k(args...); err != nil {
		t.Fatalf("the doctor's fix: %v\n%s", err, out)
	}
	d = doctorCluster(t, e.dir)
	for _, f := range d.report.Findings {
		if f.Check == "legacy-crds" && f.Status != doctor.Pass {
			t.Errorf("legacy-crds after the fix: %s %s", f.Status, f.Message)
		}
	}

	// aad-pod-identity's uninstall: its NMI removes its chain and stops.
	atSwitch := imdsHits.Load()
	gone := aad.remove(t)
	if out, err := k("-n", "kube-system", "rollout", "status", "daemonset/podid-nmi", "--timeout=90s"); err != nil {
		t.Fatalf("podid's agent after aad-pod-identity's chain went: %v\n%s", err, out)
	}
	time.Sleep(2 * time.Second) // tokens from podid
	probes, _ := k("-n", ns, "logs", "prober", "--timestamps")
	r := rolloutFrom(probes, gone.Add(-time.Second), time.Now())
	t.Logf("aad-pod-identity's chain gone → podid's agent ready in %s; %d tokens, %d refused, longest gap between tokens %s; %d requests reached the node's IMDS",
		time.Since(gone).Round(time.Millisecond), r.ok, r.refused, r.longestGap.Round(time.Millisecond), imdsHits.Load()-atSwitch)
	if n := imdsHits.Load(); n != 0 {
		t.Errorf("%d requests of the labelled pod reached the node's IMDS", n)
	}
	if r.ok == 0 || r.longestGap > 10*time.Second {
		t.Errorf("the prober's tokens did not come back from podid: %+v\n%s", r, lastLines(probes, 20))
	}
	nmiLog, _ := k("-n", "kube-system", "logs", "daemonset/podid-nmi")
	if !strings.Contains(nmiLog, "this agent takes over the node") {
		t.Errorf("the agent does not say it took over:\n%s", lastLines(nmiLog, 10))
	}

	// Nothing of aad-pod-identity's objects was lost or changed, and the
	// seed's workload reads its secret through podid (a new pod: the old
	// one's sidecar gave up on the stand-in's tokens; its busybox exits
	// once it has read the secret, so a rollout restart never completes).
	if after := podIdentitySpecs(t, k); after != specsBefore {
		t.Errorf("objects changed by the switch:\nbefore: %s\nafter:  %s", specsBefore, after)
	}
	if out, err := k("-n", ns, "delete", "pod", "-l", "app=az-keyvault-reader-test", "--wait"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seed004ReadsItsSecret(t, k)
	if out, err := e.h("uninstall", "podid", "-n", "kube-system", "--wait", "--timeout", "3m"); err != nil {
		t.Fatalf("helm uninstall: %v\n%s", err, out)
	}
	nothingOfPodidLeft(t, k, "helm uninstall", imdsHits, imdsHits.Load())
	e.down(t)
}

// aadNMI is the stand-in for aad-pod-identity's NMI: its chain on the node
// and a server on the node's address that answers every request.
type aadNMI struct {
	served  atomic.Int64
	srv     *http.Server
	nodeIP  string
	removed bool
}

// aadNMIStandIn installs aad-pod-identity's NMI's nat rules (chain
// aad-metadata, jumped to first from PREROUTING, DNAT of metadata traffic
// not from the node itself to the NMI) and serves there.
func aadNMIStandIn(t *testing.T, nodeIP string) *aadNMI {
	t.Helper()
	ln, err := net.Listen("tcp", nodeIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	a := &aadNMI{nodeIP: nodeIP}
	a.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"from-aad-pod-identity-nmi","expires_in":"3599","token_type":"Bearer"}`)
	})}
	go func() { _ = a.srv.Serve(ln) }()
	for _, args := range [][]string{
		{"-t", "nat", "-N", "aad-metadata"},
		{"-t", "nat", "-A", "aad-metadata", "!", "-s", nodeIP + "/32", "-d", "169.254.169.254/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
			"-j", "DNAT", "--to-destination", ln.Addr().String()},
		{"-t", "nat", "-A", "aad-metadata", "-j", "RETURN"},
		{"-t", "nat", "-I", "PREROUTING", "1", "-j", "aad-metadata"},
	} {
		if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
			a.remove(t)
			t.Fatalf("iptables %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		if !a.removed {
			a.remove(t)
		}
	})
	return a
}

// remove does what aad-pod-identity's NMI does on SIGTERM: deletes its jump
// and chain, and stops serving. It returns when the chain went.
func (a *aadNMI) remove(t *testing.T) time.Time {
	t.Helper()
	a.removed = true
	_ = exec.Command("iptables", "-t", "nat", "-D", "PREROUTING", "-j", "aad-metadata").Run()
	_ = exec.Command("iptables", "-t", "nat", "-F", "aad-metadata").Run()
	_ = exec.Command("iptables", "-t", "nat", "-X", "aad-metadata").Run()
	at := time.Now()
	_ = a.srv.Close()
	return at
}

// aadAssignment is an AzureAssignedIdentity for the prober as
// aad-pod-identity's MIC writes one: in namespace default, labelled with
// the node, with seed 004's identity and binding embedded, Assigned.
func aadAssignment(name, ns string) string {
	obj := map[string]any{
		"apiVersion": "aadpodidentity.k8s.io/v1", "kind": "AzureAssignedIdentity",
		"metadata": map[string]any{"name": name, "namespace": "default", "labels": map[string]string{"nodename": realNode}},
		"spec": map[string]any{
			"azureIdentityRef": map[string]any{
				"apiVersion": "aadpodidentity.k8s.io/v1", "kind": "AzureIdentity",
				"metadata": map[string]any{"name": "aad-user-identity", "namespace": ns},
				"spec": map[string]any{"type": 0, "clientID": "248b3285-aa4c-436f-b0da-8ab35ba2d14a",
					"resourceID": "/subscriptions/99a3af26-911d-4bc5-8fcc-8f9de81e46c5/resourceGroups/rg-westus2-shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-aad-user-identity"},
			},
			"azureBindingRef": map[string]any{
				"apiVersion": "aadpodidentity.k8s.io/v1", "kind": "AzureIdentityBinding",
				"metadata": map[string]any{"name": "aad-user-identity-binding", "namespace": ns},
				"spec":     map[string]any{"azureIdentity": "aad-user-identity", "selector": "bind-user-identity-keyvault"},
			},
			"pod": "prober", "podNamespace": ns, "nodename": realNode,
		},
		"status": map[string]any{"status": "Assigned", "availableReplicas": 1},
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

// podIdentitySpecs is every AzureIdentity's and AzureIdentityBinding's
// name and spec, for comparing before and after.
func podIdentitySpecs(t *testing.T, k func(args ...string) (string, error)) string {
	t.Helper()
	out, err := k("get", "azureidentities,azureidentitybindings", "-A", "-o", `jsonpath={range .items[*]}{.kind} {.metadata.namespace}/{.metadata.name} {.spec}{"\n"}{end}`)
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("list AzureIdentities and bindings: %v\n%s", err, out)
	}
	return out
}

// doctorCluster runs podid doctor on the whole cluster, -o json.
func doctorCluster(t *testing.T, dir string) doctorRun {
	t.Helper()
	r := run(t, nil, "doctor", "--state-dir", dir, "-o", "json")
	d := doctorRun{out: r.stdout + r.stderr, err: r.err}
	if err := json.Unmarshal([]byte(r.stdout), &d.report); err != nil {
		t.Fatalf("podid doctor -o json printed no report (%v):\n%s", err, d.out)
	}
	return d
}

func iptablesSave(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Fatal(errors.Join(errors.New("iptables-save"), err))
	}
	return string(out)
}
