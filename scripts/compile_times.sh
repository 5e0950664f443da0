#!/usr/bin/env bash
# Compile-time table of `gale compile --train` (cross-entropy, batch 8) on the PyTorch MLP, CNN and transformer of
# torture-tests and on a 6-layer MiniLM-sized encoder (scripts/export_minilm_encoder.py): nodes before, fused kernels
# and other nodes after, naive / lower-bound / planned arena bytes, and compile time warm (CompileTimer: the same JVM
# compiles the model WARMUP times first, then RUNS times; min and median of the reported time, and the compiling
# thread's CPU time) and cold (a fresh JVM: `./gale compile`, wall time of the whole process).
#
# Usage: scripts/compile_times.sh [ENCODER.onnx] [WARMUP] [RUNS]
# The encoder is exported to /tmp/gale-minilm/model.onnx when not given (needs python3-torch; about 91 MB).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export JAVA_HOME="${GALE_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
ENCODER="${1:-/tmp/gale-minilm/model.onnx}"
WARMUP="${2:-5}"
RUNS="${3:-5}"
if [ ! -f "$ENCODER" ]; then
  mkdir -p "$(dirname "$ENCODER")"
  /usr/bin/python3 scripts/export_minilm_encoder.py "$ENCODER"
fi
./gale --version >/dev/null # builds the CLI if needed
mvn -q -o -pl torture-tests -am test-compile >/dev/null 2>&1
OUT="$(mktemp -d)"
CP="cli/target/gale-cli.jar:cli/target/lib/*:torture-tests/target/test-classes"
JAVA=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
      --sun-misc-unsafe-memory-access=allow -Xss16m)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for m in torture-tests/src/test/resources/models/{mlp,cnn,transformer}/model.onnx "$ENCODER"; do
  args=(compile "$m" --train --loss cross-entropy --batch-size 8 -o "$OUT/c" --report "$OUT/r.json")
  warm="$("${JAVA[@]}" -cp "$CP" dev.gale.torture.compile.CompileTimer "$WARMUP" "$RUNS" "${args[@]}" 2>/dev/null)"
  start=$(date +%s%N)
  ./gale "${args[@]}" >/dev/null 2>&1
  cold_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  /usr/bin/python3 - "$m" "$OUT/r.json" "$cold_ms" "$warm" <<'EOF'
import json, re, sys
model, report, cold, warm = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
k, mem = report["kernels"], report["memory"]
mib = lambda b: "-" if b is None else f"{b / 2**10:.1f} KiB" if b < 2**20 else f"{b / 2**20:.1f} MiB"
line = lambda name: re.search(name + r": min ([\d.]+) ms, median ([\d.]+) ms", warm).groups()
print(f"{model}: {k['before']} nodes -> {k['fused']} kernels + {k['plain']} other nodes; memory naive "
      f"{mib(mem['naive_bytes'])}, lower bound {mib(mem['lower_bound_bytes'])}, planned {mib(mem['planned_bytes'])}; "
      "warm gale compile min %s / median %s ms, pipeline min %s / median %s ms, thread CPU min %s / median %s ms; "
      % (line("gale compile") + line("pipeline") + line("thread CPU")) + f"cold {cold} ms (whole process)")
EOF
done
rm -rf "$OUT"
