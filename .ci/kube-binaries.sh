#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager (the tests run only its garbage collector) and etcd from their Go modules at pinned versions, using only the Go
# toolchain and the Go module proxy, into a cache outside the work tree (once per machine).
# Prints the folder holding the binaries as its last line of stdout; everything else goes to stderr.
#
#   PGTRAIL_KUBE_CACHE  cache folder (default ~/.cache/pgtrail/kube-v<k8s>-etcd-v<etcd>)
#
# k8s.io/kubernetes points its k8s.io/* requirements at ./staging with replace directives, which
# `go install pkg@version` refuses. So each binary is built from a small wrapper module made here:
# it requires the upstream module at the pinned version and, for Kubernetes, replaces every staging
# module with its published v0.Y.Z twin (the list is read from the upstream go.mod itself).
set -euo pipefail

KUBE_VERSION=1.34.4
ETCD_VERSION=3.6.16
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME
CACHE=${PGTRAIL_KUBE_CACHE:-${HOME}/.cache/pgtrail/kube-v${KUBE_VERSION}-etcd-v${ETCD_VERSION}}
BIN="$CACHE/bin"

log() { echo "kube-binaries: $*" >&2; }

all_built() { [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/etcd" ]; }
if all_built; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH   # the official tarball's place, when a login shell did not add it
fi
command -v go >/dev/null 2>&1 || { log "no Go toolchain on PATH: install Go (1.24+) to build kube-apiserver and etcd"; exit 3; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9   # a second caller waits for the first build instead of racing it
if all_built; then
  echo "$BIN"
  exit 0
fi

export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
LDFLAGS="-s -w"
mkdir -p "$BIN"
started=$(date +%s)
log "building etcd v$ETCD_VERSION, kube-apiserver and kube-controller-manager v$KUBE_VERSION with $(go version) into $CACHE (first build takes a while)"

build_etcd() {
  local dir="$CACHE/src/etcd"
  rm -rf "$dir" && mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module pgtrail.local/etcd

go 1.24

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
MOD
  cat >"$dir/main.go" <<'SRC'
// etcd, as its upstream server/main.go runs it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
SRC
  (cd "$dir" && go mod tidy >&2 && go build -ldflags="$LDFLAGS" -o "$BIN/etcd.tmp" . >&2)
  mv "$BIN/etcd.tmp" "$BIN/etcd"
}

# build_kubernetes_command NAME: k8s.io/kubernetes/cmd/NAME/app.New<Command>() run as upstream's main runs it
build_kubernetes_command() {
  local name=$1 constructor=$2
  local dir="$CACHE/src/$name" staging="0.${KUBE_VERSION#1.}" upstream_mod go_line
  rm -rf "$dir" && mkdir -p "$dir"
  upstream_mod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$upstream_mod" ] || { log "could not read go.mod of k8s.io/kubernetes@v$KUBE_VERSION"; exit 1; }
  go_line=$(grep -m1 '^go ' "$upstream_mod")
  {
    echo "module pgtrail.local/$name"
    echo
    echo "$go_line"
    grep '^godebug ' "$upstream_mod" || true
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    # every "k8s.io/x => ./staging/src/k8s.io/x" becomes "k8s.io/x => k8s.io/x v0.Y.Z"
    sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\(k8s.io/[A-Za-z0-9._-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*$#replace \2 => \2 v'"$staging"'#p' "$upstream_mod"
  } >"$dir/go.mod"
  grep -q '^replace k8s.io/api ' "$dir/go.mod" || { log "found no staging replace directives in $upstream_mod"; exit 1; }
  cat >"$dir/main.go" <<SRC
// $name, as its upstream cmd/$name main runs it.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/$name/app"
)

func main() {
	os.Exit(cli.Run(app.$constructor()))
}
SRC
  # stamp the version as upstream's build does (kube-apiserver derives its emulation version from it)
  local v=k8s.io/component-base/version minor=${KUBE_VERSION#1.}
  minor=${minor%%.*}
  (cd "$dir" && go mod tidy >&2 && go build -ldflags="$LDFLAGS -X $v.gitVersion=v$KUBE_VERSION -X $v.gitMajor=1 \
      -X $v.gitMinor=$minor -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z" \
      -o "$BIN/$name.tmp" . >&2)
  mv "$BIN/$name.tmp" "$BIN/$name"
}

[ -x "$BIN/etcd" ] || build_etcd
log "etcd ready after $(( $(date +%s) - started )) s"
[ -x "$BIN/kube-apiserver" ] || build_kubernetes_command kube-apiserver NewAPIServerCommand
log "kube-apiserver ready after $(( $(date +%s) - started )) s"
[ -x "$BIN/kube-controller-manager" ] || build_kubernetes_command kube-controller-manager NewControllerManagerCommand
log "kube-controller-manager ready after $(( $(date +%s) - started )) s"
elapsed=$(( $(date +%s) - started ))
echo "$(date -u +%FT%TZ) built kube-apiserver, kube-controller-manager v$KUBE_VERSION + etcd v$ETCD_VERSION with $(go version | cut -d' ' -f3) in ${elapsed} s" >>"$CACHE/build-times.log"
log "built in ${elapsed} s: $("$BIN/kube-apiserver" --version 2>&1), etcd $("$BIN/etcd" --version 2>&1 | head -1)"
echo "$BIN"
