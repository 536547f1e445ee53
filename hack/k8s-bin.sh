#!/usr/bin/env bash
# Builds and caches kube-apiserver, etcd and kwok; prints the bin folder.
# The script itself lives beside the Go code that embeds it, so `podid up`
# can build the same binaries from any directory.
exec bash "$(dirname "$0")/../internal/controlplane/k8s-bin.sh" "$@"
