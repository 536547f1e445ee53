package kwok

import (
	"fmt"
	"path/filepath"

	"github.com/podid/podid/internal/proc"
)

// ManagedAnnotation marks the nodes kwok manages.
const (
	ManagedAnnotation      = "kwok.x-k8s.io/node"
	ManagedAnnotationValue = "fake"
)

// Options configure kwok.
type Options struct {
	// BinDir holds the kwok binary.
	BinDir string
	// Kubeconfig is an admin kubeconfig for the cluster.
	Kubeconfig string
	// Dir receives kwok's log.
	Dir string
}

// Start runs kwok against the cluster. Stop it with Process.Stop.
func Start(opts Options) (*proc.Process, error) {
	p, err := proc.Start(proc.Spec{
		Name: "kwok",
		Path: filepath.Join(opts.BinDir, "kwok"),
		Args: []string{
			"--kubeconfig=" + opts.Kubeconfig,
			"--manage-nodes-with-annotation-selector=" + ManagedAnnotation + "=" + ManagedAnnotationValue,
			// Used only for a node without a podCIDR; every node podid makes has one.
			"--cidr=127.255.0.0/16",
			"--node-lease-duration-seconds=40",
		},
		LogFile: filepath.Join(opts.Dir, "kwok.log"),
		// kwok looks for ~/.kwok/kwok.yaml; keep it out of the user's home.
		Env: []string{"HOME=" + opts.Dir},
	})
	if err != nil {
		return nil, fmt.Errorf("start kwok: %w", err)
	}
	return p, nil
}
