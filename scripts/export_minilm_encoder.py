#!/usr/bin/env python3
"""Exports a 6-layer transformer encoder of all-MiniLM-L6-v2's size, for timing `gale compile --train`.

The shape follows all-MiniLM-L6-v2 (a BERT encoder): vocabulary 30522, hidden size 384, 12 heads, feed-forward 1536,
6 post-norm layers with GELU and dropout 0.1, learned positions for 128 tokens, a LayerNorm on the embeddings. The
weights are random (PyTorch's initialization, seed 0): the model is a compile-time benchmark, not the pretrained
network. A mean-pooled linear head gives 2 logits per sequence, so cross-entropy training applies.

The model is exported in training mode (torch.onnx.TrainingMode.PRESERVE: Dropout stays a training-mode op) at
opset 17 with a symbolic batch dimension; the tokens input is int64 [batch, 128]. --vocab shrinks the embedding
table when memory is short (the full table is 30522 x 384 floats, 47 MB; the file is about 91 MB).

Usage: python3 scripts/export_minilm_encoder.py OUT.onnx [--vocab 30522] [--layers 6] [--dropout 0.1]
Then:  ./gale compile OUT.onnx --train --loss cross-entropy --batch-size 8 -o OUT_DIR --report OUT_DIR/report.json
"""
import argparse

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, vocab, d=384, heads=12, ff=1536, layers=6, seq=128, classes=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=dropout, activation="gelu", batch_first=True,
                                           layer_norm_eps=1e-12)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens):
        h = self.encoder(self.drop(self.norm(self.embed(tokens) + self.pos)))
        return self.head(h.mean(dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8, help="batch of the example input used for tracing")
    ap.add_argument("--dropout", type=float, default=0.1)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = Encoder(args.vocab, layers=args.layers, seq=args.seq, dropout=args.dropout)
    model.train()
    tokens = torch.randint(0, args.vocab, (args.batch, args.seq), generator=torch.Generator().manual_seed(1))
    torch.onnx.export(model, (tokens,), args.out, input_names=["tokens"], output_names=["logits"], opset_version=17,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes={"tokens": {0: "batch"}, "logits": {0: "batch"}})
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: {args.layers} layers, d=384, 12 heads, ff 1536, seq {args.seq}, vocab {args.vocab}, "
          f"{params} parameters")


if __name__ == "__main__":
    main()
