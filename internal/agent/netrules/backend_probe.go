package netrules

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// probeTimeout bounds one backend's iptables-save: a node's tables are
// read in well under a second, and a hung binary must not stall start-up.
const probeTimeout = 15 * time.Second

// SaveFunc runs one backend's save tool, "iptables-nft-save" or
// "iptables-legacy-save", and returns what it printed.
type SaveFunc func(ctx context.Context, save string) ([]byte, error)

// ExecSave runs the save tool found on PATH.
func ExecSave(ctx context.Context, save string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, save)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("run %s: %w: %s", save, err, msg)
		}
		return nil, fmt.Errorf("run %s: %w", save, err)
	}
	return out, nil
}

// ProbeBackends reads the node's tables through both backends.
func ProbeBackends(ctx context.Context, save SaveFunc) (nft, legacy BackendReport) {
	probe := func(binary string) BackendReport {
		out, err := save(ctx, binary+"-save")
		if err != nil {
			return BackendReport{Err: err}
		}
		return ParseSave(out)
	}
	return probe(BinaryNFT), probe(BinaryLegacy)
}

// ResolveIPTables turns a --iptables value into the binary the agent runs:
// the iptables on PATH, an absolute path, or with "auto" the backend
// ChooseBackend picks from what save reports. It fails, saying what to
// set instead, when that binary is missing.
func ResolveIPTables(ctx context.Context, value string, save SaveFunc) (Choice, error) {
	var c Choice
	switch {
	case value == IPTablesAuto:
		nft, legacy := ProbeBackends(ctx, save)
		c = ChooseBackend(nft, legacy)
		// A backend that could not be read counted as empty; say so.
		for _, r := range []BackendReport{nft, legacy} {
			if r.Err != nil {
				c.Reason += "; counted as empty: " + r.Err.Error()
			}
		}
	case value == IPTablesOnPath:
		c = Choice{IPTablesOnPath, "--iptables=iptables runs the iptables on PATH"}
	case filepath.IsAbs(value):
		c = Choice{value, "--iptables names it"}
	default:
		return Choice{}, fmt.Errorf("--iptables %q: want iptables, auto or an absolute path", value)
	}
	if _, err := exec.LookPath(c.Binary); err != nil {
		return Choice{}, fmt.Errorf("--iptables=%s: %s is missing; install it, set --iptables=auto to use the iptables-nft or iptables-legacy the podid image carries, or give an absolute path: %w",
			value, c.Binary, err)
	}
	return c, nil
}
