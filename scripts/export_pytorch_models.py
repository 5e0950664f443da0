#!/usr/bin/env python3
"""Exports the PyTorch reference models Gale's tests use, in the ONNX backend-test layout.

For each model: OUT/NAME/model.onnx and OUT/NAME/test_data_set_0/{input_K,output_K}.pb, where the outputs are
PyTorch's own outputs for the inputs. `gale conformance OUT` then checks that Gale reproduces PyTorch.

Models (small on purpose, fixed seeds, dynamic batch dimension):
  mlp          Linear(784,256) -> GELU -> LayerNorm -> Linear(256,10)
  cnn          Conv-BatchNorm-ReLU-MaxPool -> Conv-ReLU-AvgPool -> Flatten -> Linear, on 1x28x28 images
  transformer  token Embedding + learned positions -> 2 x TransformerEncoderLayer(d=64, 4 heads, ff 128)
               -> mean over tokens -> Linear(64,10)

Usage: python3 scripts/export_pytorch_models.py OUT_DIR [--opset 17]
Needs Debian's python3-torch and python3-onnx.
"""
import argparse
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc2(self.norm(self.act(self.fc1(x))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, stride=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.avg_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class Transformer(nn.Module):
    def __init__(self, vocab=100, d=64, heads=4, ff=128, layers=2, seq=16, classes=10):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) + self.pos)
        return self.head(h.mean(dim=1))


def models():
    torch.manual_seed(0)
    mlp = MLP()
    torch.manual_seed(1)
    cnn = CNN()
    with torch.no_grad():  # non-trivial running statistics, so inference-mode BatchNorm is really exercised
        cnn.bn1.running_mean.uniform_(-0.5, 0.5)
        cnn.bn1.running_var.uniform_(0.5, 1.5)
    torch.manual_seed(2)
    tr = Transformer()
    g = torch.Generator().manual_seed(3)
    return {
        "mlp": (mlp, torch.randn(4, 784, generator=g)),
        "cnn": (cnn, torch.randn(4, 1, 28, 28, generator=g)),
        "transformer": (tr, torch.randint(0, 100, (4, 16), generator=g)),
    }


def save(path, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    for name, (model, x) in models().items():
        model.eval()
        folder = os.path.join(args.out, name)
        data = os.path.join(folder, "test_data_set_0")
        os.makedirs(data, exist_ok=True)
        input_name = "tokens" if name == "transformer" else "x"
        torch.onnx.export(model, (x,), os.path.join(folder, "model.onnx"), input_names=[input_name],
                          output_names=["logits"], opset_version=args.opset,
                          dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}})
        onnx.checker.check_model(onnx.load(os.path.join(folder, "model.onnx")))
        with torch.no_grad():
            y = model(x).numpy()
        save(os.path.join(data, "input_0.pb"), x.numpy())
        save(os.path.join(data, "output_0.pb"), y.astype(np.float32))
        print(f"{name}: {os.path.join(folder, 'model.onnx')} logits {tuple(y.shape)}")


if __name__ == "__main__":
    main()
