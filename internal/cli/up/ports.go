package up

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/plan"
)

// checkPorts fails early, with a fix, when an address the plan needs is taken.
func checkPorts(p *plan.Plan) error {
	var errs []error
	try := func(addr, what, fix string) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s is taken (%v); %s", what, addr, err, fix))
			return
		}
		_ = l.Close()
	}
	if p.APIServerPort != 0 {
		try(fmt.Sprintf("127.0.0.1:%d", p.APIServerPort), "kube-apiserver port", "choose another with --apiserver-port, or 0 for a free one")
	}
	if p.CloudPort != 0 {
		try(fmt.Sprintf("127.0.0.1:%d", p.CloudPort), "embedded cloud port", "choose another with --cloud-port, or 0 for a free one")
	}
	for _, n := range p.Nodes {
		for _, a := range []string{n.AgentAddr, n.ProbeAddr, n.Metrics} {
			try(a, "node agent address of "+n.Name, "is another podid up running with another --state-dir? stop it with podid down --state-dir DIR")
		}
	}
	return errors.Join(errs...)
}

// checkBinaries names every control-plane binary missing from dir and how
// to get it.
func checkBinaries(dir string, kubelet bool) error {
	var missing []string
	want := append([]string{"etcd", "kube-apiserver", "kwok"}, controlplane.ControllerBinaries...)
	if kubelet {
		want = append(want, "kubelet")
	}
	for _, b := range want {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fix := "run hack/k8s-bin.sh to build them"
	if os.Getenv(controlplane.BinDirEnv) != "" {
		fix = "put them there, or unset " + controlplane.BinDirEnv + " to let podid build and cache them"
	}
	return fmt.Errorf("%v missing from %s: %s", missing, dir, fix)
}
