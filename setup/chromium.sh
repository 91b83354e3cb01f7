#!/usr/bin/env bash
# Installs Debian's chromium package for the gallery's browser tests, unless /usr/bin/chromium
# is already there. playwright-core drives this binary; it never downloads a browser of its own.
#
# Usage: setup/chromium.sh
# Needs root (or sudo) and Debian or Ubuntu package sources.
set -euo pipefail

binary=/usr/bin/chromium
log() { echo "setup/chromium.sh: $*"; }

if [[ -x "$binary" ]]; then
  log "$binary is present ($("$binary" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "apt-get not found; install a Chromium build at $binary by hand" >&2
  exit 1
fi

run_as_root=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    log "installing packages needs root, and sudo is not available" >&2
    exit 1
  fi
  run_as_root=(sudo)
fi

log "installing chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update -q
# The fonts package gives pages readable text in screenshots.
"${run_as_root[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

if [[ ! -x "$binary" ]]; then
  log "chromium installed but $binary is missing" >&2
  exit 1
fi
log "installed $("$binary" --version 2>/dev/null || echo chromium)"
