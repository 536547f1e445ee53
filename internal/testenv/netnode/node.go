package netnode

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/testenv"
)

// Node is the node side of a network-namespace test, run in the node
// namespace: a one-node cluster and the cloud seeded with a World.
type Node struct {
	Env   *testenv.Env
	Cloud *cloud.Cloud
	// CAFile holds the cloud's CA bundle, in Env.Dir.
	CAFile string
}

// StartNode starts a cluster whose one node has podCIDR and InternalIP
// nodeIP, and the cloud seeded with w, trusting the cluster's issuer. On
// error, whatever started is stopped.
func StartNode(ctx context.Context, w World, podCIDR netip.Prefix, nodeIP netip.Addr) (*Node, error) {
	env, err := testenv.Start(ctx, testenv.Options{Nodes: 1, NodeAddresses: func(int) (netip.Prefix, netip.Addr) {
		return podCIDR, nodeIP
	}})
	if err != nil {
		return nil, err
	}
	n := &Node{Env: env}
	cp := env.ControlPlane
	if n.Cloud, err = StartCloud(ctx, w, cp.Issuer, cp.CAFile); err != nil {
		n.Stop()
		return nil, err
	}
	if n.CAFile, err = CloudCAFile(env.Dir, n.Cloud); err != nil {
		n.Stop()
		return nil, err
	}
	return n, nil
}

// Stop closes the cloud and stops the cluster.
func (n *Node) Stop() {
	if n.Cloud != nil {
		_ = n.Cloud.Close()
	}
	n.Env.Stop()
}

// Fail prints "FAILED <err>" on stdout, where the test reads the node
// side's answers, and returns exit code 1.
func Fail(err error) int {
	fmt.Println("FAILED", err)
	return 1
}
