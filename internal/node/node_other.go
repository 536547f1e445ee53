//go:build !linux

package node

import (
	"context"
	"errors"
	"log/slog"

	"github.com/podid/podid/internal/proc"
)

var errLinuxOnly = errors.New("real nodes run on Linux only")

// Node is a running real node; on this system there is none.
type Node struct{ cfg Config }

// Options configure Start.
type Options struct {
	Config
	KubeletBin      string
	WriteKubeconfig func(name, path string) error
	Logger          *slog.Logger
}

// Start fails: real nodes need Linux.
func Start(context.Context, Options) (*Node, error) { return nil, errLinuxOnly }

// CleanupAll has nothing to remove off Linux.
func CleanupAll(context.Context, string, *slog.Logger) (bool, error) { return false, nil }

// Cleanup has nothing to remove off Linux.
func Cleanup(context.Context, Layout, *slog.Logger) error { return nil }

func (n *Node) Name() string               { return n.cfg.Name }
func (n *Node) Config() Config             { return n.cfg }
func (n *Node) Processes() []*proc.Process { return nil }
func (n *Node) Stop()                      {}

// TrustRegistry fails: real nodes need Linux.
func (n *Node) TrustRegistry(string) error { return errLinuxOnly }
