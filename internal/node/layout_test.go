package node

import (
	"strings"
	"testing"
)

// A state folder too deep for the node's unix sockets is refused before
// anything starts, naming the socket and the flag to change; a usual one
// passes.
func TestSocketPathsFitAUnixSocket(t *testing.T) {
	ok, err := NewLayout(0, "/tmp/podid-state/run/node0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ok.checkSocketPaths(); err != nil {
		t.Errorf("a short folder is refused: %v", err)
	}
	deep, err := NewLayout(0, "/tmp/TestSwitchFromAADPodIdentityOnTheRealNode4266474417/001/state/run/node0")
	if err != nil {
		t.Fatal(err)
	}
	err = deep.checkSocketPaths()
	if err == nil || !strings.Contains(err.Error(), "pod-resources") || !strings.Contains(err.Error(), "use a shorter --state-dir") {
		t.Errorf("a folder too deep for the kubelet's pod-resources socket: got %v", err)
	}
}
