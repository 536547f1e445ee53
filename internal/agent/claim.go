package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/nodelock"
)

// Fixes printed in refusals. aad-pod-identity is installed either by its
// Helm chart (release aad-pod-identity by its docs), which keeps the CRDs
// on uninstall, or from its manifest deploy/infra/deployment-rbac.yaml,
// which puts the DaemonSet nmi and the Deployment mic in namespace
// default, and also holds the CRDs: `kubectl delete -f` of that manifest
// would delete every AzureIdentity and binding, so only the two workloads
// are named.
const (
	aadHelmUninstall     = "helm uninstall aad-pod-identity -n <namespace>"
	aadManifestWorkloads = "kubectl -n default delete daemonset/nmi deployment/mic"
)

// claimInput is what the agent found when it claimed the node's metadata
// redirect, before installing any rule.
type claimInput struct {
	// NAT is the node's nat table as far as the redirect goes; Metadata
	// the address pods call.
	NAT      netrules.NAT
	Metadata netip.AddrPort
	// Held names the agent that kept the node lock all the time this one
	// waited (Wait); nil when this agent took the lock or uses none.
	Held *nodelock.HeldError
	Wait time.Duration
}

// refusal says why the agent must not start on this node: another agent
// (aad-pod-identity's NMI, another podid installation, or anything else
// that redirects the metadata address) owns the redirect. Each reason names
// the other installation and how to remove it. nil means the node is this
// agent's. It is pure.
func refusal(in claimInput) error {
	var errs []error
	if h := in.Held; h != nil {
		waited := ""
		if in.Wait > 0 {
			waited = fmt.Sprintf(" and did not release it within %s", in.Wait)
		}
		errs = append(errs, fmt.Errorf("another podid agent owns the metadata redirect on this node: it holds the node lock %s (%s)%s. "+
			"Two podid installations on one node fight over the same iptables rules, so this one does not start. "+
			"Keep one: uninstall the other release (`helm list -A` shows both; `helm uninstall <release> -n <namespace>`)",
			h.Path, h.Holder, waited))
	}
	for _, f := range netrules.ForeignRedirects(in.NAT, in.Metadata) {
		errs = append(errs, foreignRefusal(f))
	}
	return errors.Join(errs...)
}

func foreignRefusal(f netrules.Foreign) error {
	remove := "`" + strings.Join(removeCommands(f), "; ") + "`"
	if f.Owner == "aad-pod-identity" {
		return fmt.Errorf("aad-pod-identity's NMI owns the metadata redirect on this node (%s), so podid's agent does not start: "+
			"pods' tokens would come from whichever redirect matches first. "+
			"Uninstall aad-pod-identity (`%s`; if it came from its deployment-rbac.yaml, `%s`, not `kubectl delete -f` of that file, which deletes the CRDs and every AzureIdentity with them); its NMI removes the chain when it stops (SIGTERM). "+
			"If no aad-pod-identity NMI runs on this node any more, a killed one left the chain behind: remove it on the node with %s. "+
			"Once the chain is gone this agent takes over: within a second while it waits (--wait-for-other-agents), else on its next restart",
			describeChain(f), aadHelmUninstall, aadManifestWorkloads, remove)
	}
	return fmt.Errorf("another program redirects the metadata address on this node (%s), so podid's agent does not start: "+
		"pods' tokens would come from whichever redirect matches first. "+
		"Remove what installed it (another pod-identity agent or metadata proxy); if nothing does any more, remove the rules on the node with %s",
		describeChain(f), remove)
}

// describeChain names where the redirect is: "nat chain aad-metadata,
// jumped to from PREROUTING by "-A PREROUTING -j aad-metadata", rules ...".
func describeChain(f netrules.Foreign) string {
	if f.Chain == "PREROUTING" {
		return fmt.Sprintf("nat PREROUTING rule %s", quoteAll(f.Rules))
	}
	jumps := "not jumped to from PREROUTING at the moment"
	if len(f.Jumps) > 0 {
		jumps = "jumped to from PREROUTING by " + quoteAll(f.Jumps)
	}
	rules := "no rules"
	if len(f.Rules) > 0 {
		rules = "rules " + quoteAll(f.Rules)
	}
	return fmt.Sprintf("nat chain %s, %s, %s", f.Chain, jumps, rules)
}

// removeCommands are the iptables commands that undo f: delete the
// redirecting rules of PREROUTING, or the jumps to a chain before flushing
// and deleting the chain (a chain cannot go while a rule jumps to it).
func removeCommands(f netrules.Foreign) []string {
	var cmds []string
	del := func(listed string) {
		cmds = append(cmds, "iptables -t nat -D "+strings.TrimPrefix(listed, "-A "))
	}
	if f.Chain == "PREROUTING" {
		for _, r := range f.Rules {
			del(r)
		}
		return cmds
	}
	for _, j := range f.Jumps {
		del(j)
	}
	return append(cmds, "iptables -t nat -F "+f.Chain, "iptables -t nat -X "+f.Chain)
}

func quoteAll(rules []string) string {
	q := make([]string, len(rules))
	for i, r := range rules {
		q[i] = fmt.Sprintf("%q", r)
	}
	return strings.Join(q, ", ")
}
