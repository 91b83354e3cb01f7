#!/usr/bin/env bash
# Creates the Python environment for bench/keras_gan.py: TensorFlow from the same pinned CPU
# wheel that setup/tensorflow.sh unpacks for tfjs-node, so both sides run libtensorflow 2.21.
# Prints the environment's python path on its last line.
set -euo pipefail
cache="${FASHION_GAN_CACHE:-$HOME/.cache/fashion-gan}"
venv="$cache/bench-venv"
wheel="$cache/wheels/tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import tensorflow' 2>/dev/null; then
  if [[ ! -f "$wheel" ]]; then
    echo "bench/setup-keras.sh: $wheel not found; run 'npm run setup' first" >&2
    exit 1
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$wheel"
fi
echo "$venv/bin/python"
