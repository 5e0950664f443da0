#!/usr/bin/env python3
"""The PyTorch side of Gale's training parity test.

For one model and optimizer: builds the model with a fixed seed, makes a small deterministic data set, exports the
initial model to ONNX in training mode (torch.onnx.TrainingMode.PRESERVE), then trains it for N steps in PyTorch with
the batch at step s holding rows (s*B + i) mod n (what `gale train --no-shuffle` does), and writes the loss of every
step. Gale trains the exported model with the same settings; the losses must agree.

Writes into OUT: model.onnx, data.npz (arrays x, y), torch_losses.csv (step,loss), args.txt (the gale train flags).
Usage: python3 scripts/pytorch_train.py OUT --model mlp|cnn|upconv|upsample|transformer --optimizer sgd|adam|adamw [--steps 40]
"""
import argparse
import os

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    """An MLP with GELU and LayerNorm, on 64 features and 10 classes."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(self.norm(self.act(self.fc1(x))))


class CNN(nn.Module):
    """A small CNN with BatchNorm (training mode: batch statistics, running statistics updated) on 1x12x12 images."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 3 * 3, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class UpConv(nn.Module):
    """An encoder-decoder on 1x12x12 images: a stride-2 convolution down to 6x6, a ConvTranspose (stride 2, padding 1,
    output_padding 1, with bias) back up to 12x12, and a linear classifier on the up-sampled maps."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        self.fc = nn.Linear(3 * 12 * 12, 10)

    def forward(self, x):
        x = torch.relu(self.up(torch.relu(self.down(x))))
        return self.fc(torch.flatten(x, 1))


class Upsample(nn.Module):
    """A segmentation-style head on 1x12x12 images: a stride-2 convolution to 6x6, bilinear upsampling back to 12x12
    (Resize), a 1x1 convolution, nearest upsampling to 24x24, average pooling and a linear classifier."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.mix = nn.Conv2d(4, 3, 1)
        self.fc = nn.Linear(3 * 6 * 6, 10)

    def forward(self, x):
        x = torch.relu(self.down(x))
        x = nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = nn.functional.interpolate(torch.relu(self.mix(x)), scale_factor=2, mode="nearest")
        x = nn.functional.avg_pool2d(x, 4)
        return self.fc(torch.flatten(x, 1))


class Transformer(nn.Module):
    """Token embeddings + learned positions, two encoder layers (no dropout), mean pooling, a linear classifier."""

    def __init__(self, vocab=50, d=32, heads=4, ff=64, layers=2, seq=8, classes=10):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) + self.pos)
        return self.head(h.mean(dim=1))


def build(name, n):
    g = torch.Generator().manual_seed(123)
    if name == "mlp":
        torch.manual_seed(10)
        return MLP(), torch.randn(n, 64, generator=g), "x"
    if name == "cnn":
        torch.manual_seed(11)
        return CNN(), torch.randn(n, 1, 12, 12, generator=g), "x"
    if name == "upconv":
        torch.manual_seed(13)
        return UpConv(), torch.randn(n, 1, 12, 12, generator=g), "x"
    if name == "upsample":
        torch.manual_seed(14)
        return Upsample(), torch.randn(n, 1, 12, 12, generator=g), "x"
    if name == "transformer":
        torch.manual_seed(12)
        return Transformer(), torch.randint(0, 50, (n, 8), generator=g), "tokens"
    raise SystemExit(f"unknown model {name}")


def optimizer(name, params, lr):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    raise SystemExit(f"unknown optimizer {name}")


FLAGS = {"sgd": "--momentum 0.9", "adam": "", "adamw": "--weight-decay 0.01", "adagrad": ""}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--model", help="mlp, cnn, upconv, upsample or transformer")
    ap.add_argument("--optimizer", help="sgd, adam, adamw or adagrad")
    ap.add_argument("--all", action="store_true",
                    help="every model with sgd, adam and adamw (and the MLP with adagrad), in OUT/MODEL-OPTIMIZER")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rows", type=int, default=48)
    ap.add_argument("--lr", type=float, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.all:
        for m in ("mlp", "cnn", "upconv", "upsample", "transformer"):
            for o in ("sgd", "adam", "adamw"):
                run(os.path.join(args.out, f"{m}-{o}"), m, o, args)
        run(os.path.join(args.out, "mlp-adagrad"), "mlp", "adagrad", args)
    else:
        if not args.model or not args.optimizer:
            raise SystemExit("give --model and --optimizer, or --all")
        run(args.out, args.model, args.optimizer, args)


def run(out, model_name, optimizer_name, args):
    args = argparse.Namespace(**{**vars(args), "out": out, "model": model_name, "optimizer": optimizer_name})
    lr = args.lr if args.lr is not None else (0.01 if args.optimizer == "sgd" else 1e-3)
    model, x, input_name = build(args.model, args.rows)
    y = torch.randint(0, 10, (args.rows,), generator=torch.Generator().manual_seed(321))
    os.makedirs(args.out, exist_ok=True)
    model.train()
    torch.onnx.export(model, (x[: args.batch],), os.path.join(args.out, "model.onnx"), input_names=[input_name],
                      output_names=["logits"], opset_version=17, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}})
    # Tracing ran the model once in training mode, so BatchNorm's running statistics moved; the exported
    # initializers hold that state too, so both sides start from it.
    np.savez(os.path.join(args.out, "data.npz"), x=x.numpy(), y=y.numpy().astype(np.int64))
    opt = optimizer(args.optimizer, model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    with open(os.path.join(args.out, "torch_losses.csv"), "w") as f:
        f.write("step,loss\n")
        for s in range(args.steps):
            idx = [(s * args.batch + i) % args.rows for i in range(args.batch)]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            f.write(f"{s + 1},{loss.item():.9g}\n")
    buffers = {k: v.detach().numpy() for k, v in model.state_dict().items() if "running" in k}
    if buffers:  # BatchNorm running statistics after training, to compare with Gale's trained model
        np.savez(os.path.join(args.out, "torch_buffers.npz"), **buffers)
    with open(os.path.join(args.out, "args.txt"), "w") as f:
        f.write(f"--feed {input_name}=x --labels y --loss cross-entropy --optimizer {args.optimizer} --lr {lr} "
                f"{FLAGS[args.optimizer]} --batch-size {args.batch} --steps {args.steps} --no-shuffle\n")
    print(f"{args.model}/{args.optimizer}: final torch loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
