#!/usr/bin/env bash
# Writes the CUDA differential corpus (codegen's CudaCorpus): the golden, random and model kernels rendered to CUDA,
# with random inputs and the reference interpreter's outputs, for scripts/gpu/run_cuda_corpus.py on a GPU machine.
#   scripts/cuda-corpus.sh OUT_DIR [RANDOM_BODIES]      (e.g. scripts/cuda-corpus.sh .gpu/corpus)
# Compiles codegen and its tests (offline Maven) first; the class path is cached in codegen/target.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: scripts/cuda-corpus.sh OUT_DIR [RANDOM_BODIES]" >&2
  exit 2
fi
OUT="$(realpath -m "$1")"
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/manifest.json" ]; then
  echo "cuda-corpus: $OUT is not empty and holds no corpus; not overwriting it" >&2
  exit 2
fi
export JAVA_HOME="${GALE_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"
cd "$ROOT"
mvn -q -o -B -Dstyle.color=never -pl codegen -am test-compile
# The jars codegen's tests use (JUnit, ANTLR, protobuf...); Gale's own modules come from their target/classes.
CP_FILE=codegen/target/cuda-corpus.classpath
if [ ! -s "$CP_FILE" ] || [ pom.xml -nt "$CP_FILE" ] || [ codegen/pom.xml -nt "$CP_FILE" ]; then
  mvn -q -o -B -Dstyle.color=never -pl codegen dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$ROOT/$CP_FILE.all"
  tr ':' '\n' <"$CP_FILE.all" | grep -v '/dev/gale/' | paste -sd: - >"$CP_FILE"
  rm -f "$CP_FILE.all"
fi
CP="ir/target/classes:backends/target/classes:onnx/target/classes:passes/target/classes:train/target/classes"
CP="$CP:codegen/target/classes:codegen/target/test-classes:$(cat "$CP_FILE")"
rm -rf "$OUT/manifest.json" "$OUT/kernels" "$OUT/data"
exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Dgale.root="$ROOT" \
  -cp "$CP" dev.gale.codegen.CudaCorpus "$OUT" "${2:-300}" 2> >(grep -v -E '^WARNING: Using incubator modules' >&2)
