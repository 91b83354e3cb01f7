#!/usr/bin/env bash
# Installs libtensorflow for @tensorflow/tfjs-node (or tfjs-node-gpu) and builds its addon.
#
# The stock tfjs-node install downloads libtensorflow 2.9.1 and a prebuilt addon from Google
# storage. Where that download fails (no internet, or the HTTP 403 responses seen since 2026), this
# script takes the TensorFlow C library from the pinned TensorFlow wheel, which pip fetches from
# the Python package index, and compiles the addon against it with node-gyp.
#
# Usage: setup/tensorflow.sh [cpu|gpu]
# Environment:
#   FASHION_GAN_TF_SOURCE  auto (default: official download, then the wheel), official, wheel
#   FASHION_GAN_CACHE      cache folder for the wheel and built addons (default ~/.cache/fashion-gan)
set -euo pipefail

device="${1:-cpu}"
source_mode="${FASHION_GAN_TF_SOURCE:-auto}"
cache="${FASHION_GAN_CACHE:-$HOME/.cache/fashion-gan}"
root="$(cd "$(dirname "$0")/.." && pwd)"

# One pinned wheel per device. The C API symbols that the tfjs binding calls are exported
# between libtensorflow_cc.so.2 and libtensorflow_framework.so.2 of these wheels.
tf_version="2.21.0"
case "$device" in
  cpu)
    package="@tensorflow/tfjs-node"
    wheel_project="tensorflow-cpu"
    wheel_file="tensorflow_cpu-${tf_version}-cp311-cp311-manylinux_2_27_x86_64.whl"
    wheel_sha256="2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c"
    ;;
  gpu)
    # NOTE: built and loaded here on a machine without a GPU (TensorFlow then sees no GPU), never
    # run on one. The CUDA 12 libraries that this wheel opens at run time come from the GPU image
    # (k8s/images/Dockerfile), not from this script.
    package="@tensorflow/tfjs-node-gpu"
    wheel_project="tensorflow"
    wheel_file="tensorflow-${tf_version}-cp311-cp311-manylinux_2_27_x86_64.whl"
    wheel_sha256="${FASHION_GAN_GPU_WHEEL_SHA256:-9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124}"
    ;;
  *)
    echo "setup/tensorflow.sh: unknown device '$device', expected cpu or gpu" >&2
    exit 2
    ;;
esac

package_dir="$root/node_modules/$package"
if [[ ! -f "$package_dir/package.json" ]]; then
  echo "setup/tensorflow.sh: $package is not installed; run 'npm ci --ignore-scripts' first" >&2
  exit 1
fi

log() { echo "setup/tensorflow.sh: $*"; }

binding_loads() {
  (cd "$root" && node -e "
    const tf = require('$package');
    if (tf.getBackend() !== 'tensorflow') process.exit(1);
  ") >/dev/null 2>&1
}

install_official() {
  log "trying the official libtensorflow download of $package"
  mkdir -p "$cache"
  (cd "$package_dir" && timeout 300 node scripts/install.js "$device" download) \
    >"$cache/official-install.log" 2>&1 && binding_loads
}

fetch_wheel() {
  local wheel="$cache/wheels/$wheel_file"
  if [[ ! -f "$wheel" ]]; then
    log "downloading $wheel_project==$tf_version with pip"
    mkdir -p "$cache/wheels"
    local partial
    partial="$(mktemp -d "$cache/wheels/.download.XXXXXX")"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --python-version 3.11 --platform manylinux_2_27_x86_64 \
      -d "$partial" "$wheel_project==$tf_version"
    mv "$partial/$wheel_file" "$wheel"
    rm -rf "$partial"
  fi
  if [[ -n "$wheel_sha256" ]]; then
    echo "$wheel_sha256  $wheel" | sha256sum --check --quiet - || {
      echo "setup/tensorflow.sh: $wheel: SHA-256 mismatch, expected $wheel_sha256; delete it and rerun" >&2
      exit 1
    }
  else
    log "WARNING: no pinned SHA-256 for $wheel_file; set FASHION_GAN_GPU_WHEEL_SHA256 to pin it"
  fi
  echo "$wheel"
}

# Unpacks the C library and headers into $cache/libtensorflow/<wheel>, once per wheel.
unpack_wheel() {
  local wheel="$1"
  local target="$cache/libtensorflow/${wheel_file%.whl}"
  if [[ ! -f "$target/.complete" ]]; then
    log "unpacking the TensorFlow C library from $wheel_file"
    rm -rf "$target" && mkdir -p "$target/lib" "$target/include"
    local scratch
    scratch="$(mktemp -d)"
    unzip -q "$wheel" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
      'tensorflow/include/tensorflow/*' 'tensorflow/include/tsl/*' 'tensorflow/include/xla/*' \
      -d "$scratch"
    mv "$scratch/tensorflow/libtensorflow_cc.so.2" "$scratch/tensorflow/libtensorflow_framework.so.2" \
      "$target/lib/"
    mv "$scratch/tensorflow/include/"* "$target/include/"
    rm -rf "$scratch"
    touch "$target/.complete"
  fi
  echo "$target"
}

# Builds the addon against the unpacked library, or reuses one built before for the same
# package version, Node.js ABI and wheel.
install_from_wheel() {
  local wheel libtf addon_key addon_cache module_path
  wheel="$(fetch_wheel | tail -n 1)"
  libtf="$(unpack_wheel "$wheel" | tail -n 1)"

  # The binding links -ltensorflow and -ltensorflow_framework and finds them through an
  # rpath of $ORIGIN/../../deps/lib. Its DT_NEEDED entries take the sonames, *.so.2.
  rm -rf "$package_dir/deps"
  mkdir -p "$package_dir/deps/lib"
  ln -s "$libtf/include" "$package_dir/deps/include"
  for name in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
    ln -s "$libtf/lib/$name" "$package_dir/deps/lib/$name"
  done
  ln -s libtensorflow_cc.so.2 "$package_dir/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$package_dir/deps/lib/libtensorflow_framework.so"

  # node-pre-gyp loads the addon built for the highest N-API version that both the package
  # lists and this Node.js supports, so build for that one.
  local binding_file napi_version
  binding_file="$(cd "$root" && node -p "require('@mapbox/node-pre-gyp').find(require.resolve('$package/package.json'))")"
  module_path="$(dirname "$binding_file")"
  napi_version="${module_path##*napi-v}"
  addon_key="$(node -p "require('$package_dir/package.json').version")-napi$napi_version-${wheel_file%.whl}"
  addon_cache="$cache/addons/$device/$addon_key/tfjs_binding.node"
  if [[ ! -f "$addon_cache" ]]; then
    log "building the $package addon against libtensorflow $tf_version"
    local gyp_args=(rebuild)
    # node-gyp would otherwise download the Node.js headers; use the installed ones if present.
    local node_prefix
    node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
    if [[ -f "$node_prefix/include/node/node_api.h" ]]; then
      gyp_args+=("--nodedir=$node_prefix")
    fi
    (cd "$package_dir" && npx --no-install node-gyp "${gyp_args[@]}" \
      --module_name=tfjs_binding --module_path="$module_path" \
      --napi_build_version="$napi_version" >"$cache/node-gyp.log" 2>&1) || {
      echo "setup/tensorflow.sh: building the addon failed; see $cache/node-gyp.log" >&2
      exit 1
    }
    mkdir -p "$(dirname "$addon_cache")"
    cp "$package_dir/build/Release/tfjs_binding.node" "$addon_cache.partial"
    mv "$addon_cache.partial" "$addon_cache"
  else
    log "reusing the addon built before: $addon_cache"
  fi
  mkdir -p "$module_path"
  cp "$addon_cache" "$module_path/tfjs_binding.node"
}

if binding_loads; then
  log "$package already runs on libtensorflow"
  exit 0
fi

case "$source_mode" in
  official) install_official ;;
  wheel) install_from_wheel ;;
  auto)
    # After one failure, later set-ups (every npm ci empties node_modules) go straight to the
    # wheel for a week instead of reaching for the download again.
    marker="$cache/official-download-failed-$device"
    if [[ -n "$(find "$marker" -mtime -7 2>/dev/null)" ]]; then
      log "the official download failed on $(date -r "$marker" +%F); using the TensorFlow wheel"
      install_from_wheel
    elif install_official; then
      rm -f "$marker"
    else
      log "official download failed (see $cache/official-install.log); using the TensorFlow wheel"
      mkdir -p "$cache" && touch "$marker"
      install_from_wheel
    fi
    ;;
  *)
    echo "setup/tensorflow.sh: FASHION_GAN_TF_SOURCE='$source_mode' is invalid, expected auto, official or wheel" >&2
    exit 2
    ;;
esac

if ! binding_loads; then
  echo "setup/tensorflow.sh: $package still does not load on libtensorflow; run node -e \"require('$package')\" to see why" >&2
  exit 1
fi
log "$package runs on libtensorflow"
