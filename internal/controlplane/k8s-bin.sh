#!/usr/bin/env bash
# Builds and caches the real control-plane binaries podid runs against:
# kube-apiserver, kube-scheduler, kube-controller-manager and kubelet
# (k8s.io/kubernetes, staging modules replaced by their published
# versions), etcd (go.etcd.io/etcd/server/v3/etcdmain) and kwok.
# Everything comes from the Go module proxy; nothing prebuilt is downloaded.
#
# Prints the bin folder on stdout (progress goes to stderr), so
#   export KUBEBUILDER_ASSETS="$(hack/k8s-bin.sh)"
# works. Idempotent; a warm run only checks that the binaries exist. Safe to
# run twice at once: builds happen under a flock and land by rename.
#
# Components can be named as arguments (default: kube-apiserver
# kube-scheduler kube-controller-manager kubelet etcd kwok; kubectl on request).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.2}"
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"

cache_root="${PODID_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/podid}"
root="$cache_root/k8s-bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
bin="$root/bin"

want=("$@")
if [ ${#want[@]} -eq 0 ]; then want=(kube-apiserver kube-scheduler kube-controller-manager kubelet etcd kwok); fi
for c in "${want[@]}"; do
  case "$c" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kubectl|etcd|kwok) ;;
    *) echo "k8s-bin: unknown component '$c' (known: kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl etcd kwok)" >&2; exit 2 ;;
  esac
done

missing() {
  local out=()
  for c in "${want[@]}"; do [ -x "$bin/$c" ] || out+=("$c"); done
  echo "${out[@]:-}"
}

# Fast path: nothing to do, no lock taken.
if [ -z "$(missing)" ]; then echo "$bin"; exit 0; fi

mkdir -p "$bin" "$root/src"
exec 9>"$root/.lock"
flock 9
todo="$(missing)"
if [ -z "$todo" ]; then echo "$bin"; exit 0; fi

export GOWORK=off GOFLAGS="-buildvcs=false" CGO_ENABLED=0
log() { echo "k8s-bin: $*" >&2; }
start=$(date +%s)
tmp="$(mktemp -d "$root/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

k8s_cmds=()
for c in $todo; do
  case "$c" in kube-*|kubelet|kubectl) k8s_cmds+=("$c") ;; esac
done

build_k8s() {
  local src="$root/src/kubernetes"
  mkdir -p "$src"
  # tools.go names every command so one tidy records all their modules; an
  # older cache without kubelet is re-resolved.
  if [ ! -f "$src/go.sum" ] || ! grep -q "k8s.io/kubernetes $K8S_VERSION" "$src/go.mod" 2>/dev/null ||
    ! grep -q cmd/kubelet "$src/tools.go" 2>/dev/null; then
    log "resolving k8s.io/kubernetes $K8S_VERSION (staging modules at $K8S_STAGING_VERSION)"
    local upstream
    upstream="$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
    {
      echo "module podid.local/k8sbin"
      echo
      echo "go 1.24.0"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9.-]*\) => ./staging/src/.*#\t\1 => \1 '"$K8S_STAGING_VERSION"'#p' "$upstream"
      echo ")"
    } >"$src/go.mod.new"
    mv "$src/go.mod.new" "$src/go.mod"
    cat >"$src/tools.go" <<'GO'
//go:build tools

package k8sbin

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
    (cd "$src" && go mod tidy -e >&2)
  fi
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=()
  for c in "${k8s_cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  log "building ${k8s_cmds[*]} (about 4 minutes cold on 2 cores)"
  mkdir -p "$tmp/k8s"
  (cd "$src" && go build -trimpath -ldflags "$ld" -o "$tmp/k8s/" "${pkgs[@]}")
  for c in "${k8s_cmds[@]}"; do mv -f "$tmp/k8s/$c" "$bin/$c"; done
}

build_etcd() {
  local src="$root/src/etcd"
  mkdir -p "$src"
  if [ ! -f "$src/go.sum" ]; then
    log "resolving etcd $ETCD_VERSION"
    cat >"$src/go.mod" <<MOD
module podid.local/etcdbin

go 1.24.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
    cat >"$src/main.go" <<'GO'
// Command etcd runs etcd's own main; podid builds it here so no prebuilt
// binary has to be downloaded.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    (cd "$src" && go mod tidy -e >&2)
  fi
  log "building etcd"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .)
  mv -f "$tmp/etcd" "$bin/etcd"
}

build_kwok() {
  log "building kwok $KWOK_VERSION"
  mkdir -p "$tmp/kwok"
  GOBIN="$tmp/kwok" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv -f "$tmp/kwok/kwok" "$bin/kwok"
}

pids=()
case " $todo " in *" etcd "*) build_etcd & pids+=($!) ;; esac
case " $todo " in *" kwok "*) build_kwok & pids+=($!) ;; esac
if [ ${#k8s_cmds[@]} -gt 0 ]; then build_k8s & pids+=($!); fi
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
if [ $rc -ne 0 ] || [ -n "$(missing)" ]; then
  log "build failed; missing: $(missing)"
  exit 1
fi
log "ready in $(( $(date +%s) - start ))s: $bin"
echo "$bin"
