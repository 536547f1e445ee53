package netrules

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Values of the agent's --iptables besides an absolute path.
const (
	// IPTablesOnPath runs the iptables found on PATH, whatever backend it
	// is linked to.
	IPTablesOnPath = "iptables"
	// IPTablesAuto runs the backend the node's own components use (see
	// ChooseBackend).
	IPTablesAuto = "auto"
)

// The iptables binaries of the two backends --iptables=auto chooses
// between: nf_tables and legacy x_tables. Rules written with one are
// invisible to the other, so the agent must use the node's.
const (
	BinaryNFT    = "iptables-nft"
	BinaryLegacy = "iptables-legacy"
)

// hintChain is the chain kubelet creates in table mangle of the backend it
// uses, so that containerised components can tell which one that is.
const hintChain = "KUBE-IPTABLES-HINT"

// BackendReport is what one backend's iptables-save showed of the node.
type BackendReport struct {
	// Hint is true when table mangle has chain KUBE-IPTABLES-HINT.
	Hint bool
	// Rules counts the rules (lines starting with -A) of every table.
	Rules int
	// Err is why the backend could not be read; it then counts as
	// holding nothing (the node may lack its kernel modules).
	Err error
}

// ParseSave reads iptables-save output into a report.
func ParseSave(out []byte) BackendReport {
	var r BackendReport
	table := ""
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "*"):
			table = strings.TrimPrefix(line, "*")
		case strings.HasPrefix(line, "-A "):
			r.Rules++
		case table == "mangle" && strings.HasPrefix(line, ":"+hintChain+" "):
			r.Hint = true
		}
	}
	return r
}

// Choice is the iptables binary the agent runs, and why.
type Choice struct {
	// Binary is a name looked up on PATH or an absolute path.
	Binary string
	// Reason is a sentence for the log.
	Reason string
}

// ChooseBackend picks between the nf_tables and the legacy backend as
// Kubernetes' own iptables wrappers do: the one holding kubelet's
// KUBE-IPTABLES-HINT chain; else the one with more rules, as kube-proxy
// and the CNI write to the node's backend; nf_tables on a tie, the
// default of current distributions.
func ChooseBackend(nft, legacy BackendReport) Choice {
	switch {
	case nft.Hint && !legacy.Hint:
		return Choice{BinaryNFT, "kubelet's " + hintChain + " chain is in the nf_tables backend"}
	case legacy.Hint && !nft.Hint:
		return Choice{BinaryLegacy, "kubelet's " + hintChain + " chain is in the legacy backend"}
	case legacy.Rules > nft.Rules:
		return Choice{BinaryLegacy, fmt.Sprintf("no single backend has kubelet's %s chain, and the legacy backend has more rules (%d) than nf_tables (%d)", hintChain, legacy.Rules, nft.Rules)}
	case nft.Rules > legacy.Rules:
		return Choice{BinaryNFT, fmt.Sprintf("no single backend has kubelet's %s chain, and the nf_tables backend has more rules (%d) than legacy (%d)", hintChain, nft.Rules, legacy.Rules)}
	}
	return Choice{BinaryNFT, fmt.Sprintf("no single backend has kubelet's %s chain and both have %d rules, so nf_tables, the default of current distributions", hintChain, nft.Rules)}
}
