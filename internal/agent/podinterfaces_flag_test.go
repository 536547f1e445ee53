package agent

import (
	"testing"

	"github.com/spf13/pflag"
)

// Per-pod interfaces are the default; --pod-interfaces=false turns them
// off, and --pod-cidr is still required either way (the fallback).
func TestPodInterfacesFlag(t *testing.T) {
	o := validOptions()
	if !o.PodInterfaces {
		t.Fatal("per-pod interfaces are off by default")
	}
	fs := pflag.NewFlagSet("nmi", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--pod-interfaces=false"}); err != nil {
		t.Fatal(err)
	}
	if o.PodInterfaces {
		t.Fatal("--pod-interfaces=false left them on")
	}
	o.PodCIDRs = nil
	if err := o.Validate(); err == nil {
		t.Fatal("no --pod-cidr was accepted: the fallback would have nothing to redirect")
	}
}
