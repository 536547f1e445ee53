// Package kwok runs kwok, which plays the kubelet for fake nodes: it marks
// them Ready and turns pods bound to them Running with an IP from the node's
// podCIDR. It also lays out the fake nodes podid uses everywhere, with pod
// and node addresses on loopback so a process on this machine can speak as
// any pod by binding that pod's IP as its source address.
package kwok
