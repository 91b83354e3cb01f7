#!/usr/bin/env bash
# Builds the Kubernetes control plane that the cluster tests run against: etcd, kube-apiserver,
# kube-controller-manager (Job controller, garbage collector), kube-scheduler and kwok, which
# plays the kubelet of fake nodes so that pods get scheduled, run and complete without
# containers.
#
# Every binary is built from source with the Go toolchain and the Go module proxy. The
# k8s.io/kubernetes module points its k8s.io/* staging modules at local folders through replace
# directives, so `go install k8s.io/kubernetes/cmd/...@version` fails. A throwaway module under
# the cache requires k8s.io/kubernetes and maps each staging module to its published version.
# etcd is built in that same module at the version that Kubernetes requires.
#
# kubectl comes from the same build, for `kubectl kustomize` and server-side dry runs in tests.
#
# Installs into <cache>/bin/kube-<kubernetes version>-kwok-<kwok version>/ and skips the build
# when that folder has every binary. Prints the folder on the last line of standard output.
#
# Usage: setup/kube.sh [--check]   (--check: print the folder if complete, else exit 3)
# Environment:
#   FASHION_GAN_CACHE  cache folder for Go modules, build cache and binaries
#                      (default ~/.cache/fashion-gan)
set -euo pipefail

kubernetes_version="v1.36.1"
# Staging modules are published as v0.<minor>.<patch> of the Kubernetes release.
staging_version="v0.${kubernetes_version#v1.}"
kwok_version="v0.8.0"

cache="${FASHION_GAN_CACHE:-$HOME/.cache/fashion-gan}"
bin="$cache/bin/kube-$kubernetes_version-kwok-$kwok_version"
build="$cache/kube-build"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

log() { echo "setup/kube.sh: $*" >&2; }

all_present() {
  local name
  for name in "${binaries[@]}"; do
    [[ -x "$bin/$name" ]] || return 1
  done
}

if all_present; then
  echo "$bin"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "setup/kube.sh: no complete build in $bin; run 'bash setup/kube.sh' (about 40 min cold on a busy 2-core machine)" >&2
  exit 3
fi

if ! command -v go >/dev/null; then
  echo "setup/kube.sh: the Go toolchain is missing; install Go 1.26 or later" >&2
  exit 1
fi

# Keep the module and build caches with the project's other caches, so a CI run reuses them.
export GOMODCACHE="${GOMODCACHE_FASHION_GAN:-$cache/go/mod}"
export GOCACHE="${GOCACHE_FASHION_GAN:-$cache/go/build}"
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0
mkdir -p "$bin" "$build"
started=$(date +%s)

log "building Kubernetes $kubernetes_version and kwok $kwok_version into $bin"

# The replace list is read from the pinned Kubernetes go.mod, so it follows the release.
kubernetes_gomod="$(cd "$build" && GOFLAGS= go mod download -json "k8s.io/kubernetes@$kubernetes_version" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
if [[ ! -f "$kubernetes_gomod" ]]; then
  echo "setup/kube.sh: could not download the go.mod of k8s.io/kubernetes@$kubernetes_version" >&2
  exit 1
fi

{
  echo "module fashion-gan.local/kube-build"
  echo
  echo "go 1.26"
  echo
  echo "require k8s.io/kubernetes $kubernetes_version"
  echo
  echo "replace ("
  sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$kubernetes_gomod" \
    | while read -r module; do echo "	$module => $module $staging_version"; done
  echo ")"
} >"$build/go.mod"
rm -f "$build/go.sum"

(
  cd "$build"
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$kubernetes_version" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$kubernetes_version" \
    "k8s.io/kubernetes/cmd/kube-scheduler@$kubernetes_version" \
    "k8s.io/kubernetes/cmd/kubectl@$kubernetes_version"
  etcd_version="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  go get "go.etcd.io/etcd/server/v3@$etcd_version"
  log "etcd $etcd_version (the version Kubernetes $kubernetes_version requires)"

  go build -ldflags "-s -w" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
  go build -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
)

# kwok's go.mod has no replace directives, so a plain install works.
GOBIN="$bin" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"

log "built ${binaries[*]} in $(($(date +%s) - started)) s"
echo "$bin"
