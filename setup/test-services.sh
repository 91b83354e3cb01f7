#!/usr/bin/env bash
# Installs everything the test suite needs beyond npm packages: libtensorflow for tfjs-node,
# Debian's Chromium for the gallery's browser tests, the S3-compatible server and the
# Kubernetes control plane with kwok. Each step is cached and skipped when already done.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

bash "$here/tensorflow.sh" cpu
bash "$here/chromium.sh"
bash "$here/s3-server.sh" versitygw
bash "$here/kube.sh"
