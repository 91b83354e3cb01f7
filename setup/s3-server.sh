#!/usr/bin/env bash
# Builds the S3-compatible servers that the storage tests start on 127.0.0.1, with `go install`
# from the Go module proxy, and prints the path of each binary on standard output.
#
# Each server is pinned to one module version and installed into its own folder
# (<cache>/bin/<server>-<version>/), so a repeated run finds the binary and skips the build, and
# changing a pin builds the new version beside the old one.
#
# Usage: setup/s3-server.sh [versitygw|minio|all] [--installed]   (default versitygw)
#   --installed  build nothing: print the path of a binary that is already built, or exit with
#                status 3 if it is not
# Environment:
#   FASHION_GAN_CACHE  cache folder for Go modules, build cache and binaries
#                      (default ~/.cache/fashion-gan)
set -euo pipefail

# versitygw (Apache-2.0): the default test server, run with its posix backend.
versitygw_module="github.com/versity/versitygw/cmd/versitygw"
versitygw_version="v1.8.0"
# MinIO (AGPL-3.0) tags releases as RELEASE.<date>, not semver, so the pin is the pseudo-version
# of commit 7aac2a2c5b7c (2026-02-12). The binary only runs as a separate test process.
minio_module="github.com/minio/minio"
minio_version="v0.0.0-20260212201848-7aac2a2c5b7c"

which="${1:-versitygw}"
check_only="${2:-}"
cache="${FASHION_GAN_CACHE:-$HOME/.cache/fashion-gan}"

if [[ "$check_only" != "--installed" ]] && ! command -v go >/dev/null; then
  echo "setup/s3-server.sh: 'go' not found: install Go 1.24 or newer" >&2
  exit 1
fi

# Keep Go's downloads and build cache with the project's other caches, so CI can keep one folder.
export GOMODCACHE="$cache/go/mod"
export GOCACHE="$cache/go/build"
export GOFLAGS="${GOFLAGS:-} -modcacherw"
export CGO_ENABLED=0

# install NAME MODULE VERSION: builds MODULE@VERSION unless its binary exists, prints its path.
install() {
  local name="$1" module="$2" version="$3"
  local bin_dir="$cache/bin/$name-$version"
  local binary="$bin_dir/$(basename "$module")"
  if [[ -x "$binary" ]]; then
    [[ "$check_only" == "--installed" ]] || echo "setup/s3-server.sh: $name $version already installed" >&2
  elif [[ "$check_only" == "--installed" ]]; then
    echo "setup/s3-server.sh: $name $version is not built: run 'bash setup/s3-server.sh $name'" >&2
    exit 3
  else
    echo "setup/s3-server.sh: building $name $version (takes minutes the first time)" >&2
    local started=$SECONDS
    mkdir -p "$bin_dir"
    # Build into a temporary folder and rename, so an interrupted build leaves no binary that
    # the next run would take for a finished one.
    local staging
    staging="$(mktemp -d "$cache/bin/.$name.XXXXXX")"
    GOBIN="$staging" go install "$module@$version"
    mv "$staging/$(basename "$module")" "$binary"
    rmdir "$staging"
    echo "setup/s3-server.sh: built $name in $((SECONDS - started)) s" >&2
  fi
  echo "$binary"
}

case "$which" in
  versitygw) install versitygw "$versitygw_module" "$versitygw_version" ;;
  minio) install minio "$minio_module" "$minio_version" ;;
  all)
    install versitygw "$versitygw_module" "$versitygw_version"
    install minio "$minio_module" "$minio_version"
    ;;
  *)
    echo "setup/s3-server.sh: unknown server '$which', expected versitygw, minio or all" >&2
    exit 2
    ;;
esac
