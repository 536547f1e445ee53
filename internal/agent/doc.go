// Package agent assembles the node agent (nmi): informers of this node's
// pods and assignments (podindex), the token sources and their cache
// (tokens), the IMDS-compatible server (server) and the iptables rules
// (netrules). Options holds every setting with its flag; Run wires them
// and serves until the context ends, then removes the rules.
package agent
