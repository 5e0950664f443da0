#!/usr/bin/env bash
# Runs all of Gale's tests: unit tests, the ONNX conformance suites (with a pass-count floor), PyTorch parity and
# the torture tests. Installs the Debian packages they need first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
"$ROOT/scripts/install-deps.sh"
cd "$ROOT"
mvn -B -ntp verify
