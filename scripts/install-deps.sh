#!/usr/bin/env bash
# Installs the Debian packages Gale's tests and examples need (idempotent). Run as root (or with sudo available).
set -euo pipefail
PKGS="maven libonnx-testdata python3-onnx python3-numpy python3-torch g++ libopenblas0-openmp libjemalloc2"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "installing:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
