package e2e

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podid/podid/internal/image"
)

// Seed 000's "dial tcp timeout" of a private endpoint the node cannot
// reach, on the real node, with no packet leaving the machine: the node's
// containerd is told (podid up --node-registry, its hosts.toml) that
// podidacr.azurecr.io is at a loopback address where nothing answers,
// as a private DNS zone pointing the name at an endpoint IP the node has
// no route to. The credential provider still reaches the registry (its
// own path goes through the cloud's front door), so the kubelet offers
// credentials and the failure is containerd's connection alone: the
// kubelet's event is the i/o timeout, and podid doctor says the node
// could not connect and why that happens with a private endpoint.
//
// No fix is applied: the fix is the network's (link the private DNS zone,
// route to the endpoint), for which podid has no verb; the mapping stays
// for the life of the run.
func TestPullDoctorPrivateEndpointTimeout(t *testing.T) {
	addr := blackhole(t)
	_, rec := upWithARealNodeArgs(t, "--node-registry", "podidacr.azurecr.io=https://"+addr)
	if rec.ACR == nil || rec.ACR.LoginServer != "podidacr.azurecr.io" {
		t.Fatalf("up.json records no registry podidacr.azurecr.io: %+v", rec.ACR)
	}
	ref := rec.ACR.ImageRef(image.NameBusybox)
	pc := newPullCase(t, rec)
	pc.apply("pe-timeout", acrPod("pe-timeout", ref))
	// containerd gives up on a connection after 30 s, once per host of
	// its hosts.toml.
	ev := pc.failedWithin("pe-timeout", "i/o timeout", 4*time.Minute)
	if !strings.Contains(ev, "dial tcp "+addr+": i/o timeout") {
		t.Errorf("the kubelet's event is not containerd's dial timeout to %s: %s", addr, ev)
	}
	pc.doctor("pe-timeout", "image-pull", "Pod default/pe-timeout",
		"could not connect to podidacr.azurecr.io (a timeout or a refused connection)", "a private endpoint's address is not routed from the node")
}

// blackhole listens on a loopback port whose accept queue is full and
// never drained: the kernel drops every further SYN, so a connection
// attempt times out, as one to an address nothing routes does, without
// a packet leaving the machine. It returns host:port.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	// A backlog of 0 holds one connection (the kernel allows backlog+1).
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue; the connection is never accepted.
	filler, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("fill the accept queue of %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = filler.Close() })
	// The queue is full once a second attempt cannot connect.
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s still takes connections; the kernel does not drop SYNs on a full queue here", addr)
	}
	return addr
}
