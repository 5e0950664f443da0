#!/usr/bin/env bash
# Rewrites the expected outputs of the golden text-IR tests (torture-tests/src/test/resources/golden/**/*.gir.expected,
# pass tests under golden/passes/ included)
# from what the code prints now. Review the diff (git diff -- '*.expected') before committing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
cd "$ROOT"
mvn -q -pl torture-tests -am test -Dtest=GoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Dgale.bless=true
git status --short -- 'torture-tests/src/test/resources/golden'
