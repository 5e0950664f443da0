#!/usr/bin/env bash
# Sets Gale up on a fresh machine and runs its main job on real models: exports an MLP, a CNN and a transformer
# encoder from PyTorch to ONNX, imports one into Gale, prints its text IR, runs all three on the reference
# interpreter and checks the outputs against PyTorch's, then runs the ONNX conformance suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
"$ROOT/scripts/install-deps.sh"
cd "$ROOT"
./gale --version
OUT="$ROOT/build/demo"
mkdir -p "$OUT"
echo "== exporting PyTorch models to $OUT/models"
/usr/bin/python3 scripts/export_pytorch_models.py "$OUT/models" 2> >(grep -v -i warn >&2)
echo "== text IR of the transformer (first 40 lines)"
./gale print "$OUT/models/transformer/model.onnx" | head -n 40
echo "== running the transformer on the interpreter"
./gale run "$OUT/models/transformer/model.onnx" --inputs "$OUT/models/transformer/test_data_set_0" --outputs "$OUT/run"
echo "== Gale's outputs against PyTorch's (rtol 1e-3, atol 1e-7)"
./gale conformance "$OUT/models"
echo "== ONNX conformance suite (node tests) on the interpreter"
./gale conformance /usr/share/libonnx-testdata/data/node -q --report "$OUT/conformance-node.json" | tail -n 1
echo "report: $OUT/conformance-node.json"
