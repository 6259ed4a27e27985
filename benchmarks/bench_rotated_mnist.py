r"""Rotated MNIST (the 5,000 embedded digits): escnn's version of the C8 model of ``topoequi train images``.

Builds ``SteerableImageCNN("C8", channels)`` layer for layer with escnn (``R2Conv`` with its default
basis, ``InnerBatchNorm``, ``ReLU``, ``PointwiseAvgPool``, ``GroupPooling``, the same MLP head) and
trains it with the same loop, data, loss, schedule and seeds as

    topoequi train images --model c8 --channels 4,8,8,16 --epochs 5 --seed S --threads 1

printing the test error of the best validation epoch (``results.json`` in ``--out``):

    python benchmarks/bench_rotated_mnist.py --seed 0 [--channels 4,8,8,16] [--epochs 5] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os

import torch
from bench_r2 import escnn_shim
from torch import nn

from topoequi.train import images
from topoequi.train.engine import TrainConfig, Trainer


class EscnnC8CNN(nn.Module):
    """escnn's C8 model with the blocks, pooling and head of ``SteerableImageCNN``."""

    def __init__(self, channels=(4, 8, 8, 16), kernel_sizes=(5, 3), pool_after=(0, 2), hidden=64, num_classes=10):
        super().__init__()
        from escnn import gspaces
        from escnn import nn as enn

        space = gspaces.rot2dOnR2(8)
        self.in_type = ftype = enn.FieldType(space, [space.trivial_repr])
        layers = []
        for i, c in enumerate(channels):
            k = kernel_sizes[min(i, len(kernel_sizes) - 1)]
            out = enn.FieldType(space, [space.regular_repr] * c)
            layers += [enn.R2Conv(ftype, out, k, padding=k // 2), enn.InnerBatchNorm(out), enn.ReLU(out)]
            if i in pool_after:
                layers.append(enn.PointwiseAvgPool(out, 2))
            ftype = out
        layers.append(enn.GroupPooling(ftype))
        self.features = enn.SequentialModule(*layers)
        self.head = nn.Sequential(nn.Linear(channels[-1], hidden), nn.BatchNorm1d(hidden), nn.ELU(),
                                  nn.Linear(hidden, num_classes))

    def forward(self, batch):
        from escnn import nn as enn

        x = enn.GeometricTensor(batch.image, self.in_type)
        return self.head(self.features(x).tensor.mean((-2, -1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", default="4,8,8,16")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    escnn_shim()
    torch.manual_seed(args.seed)
    model = EscnnC8CNN(images.parse_channels(args.channels))
    split = argparse.Namespace(dataset="mnist-rot", source=None, seed=args.seed, limit=None)
    data = images.load_splits(split)
    out = args.out or os.path.join("runs", f"images-mnist-rot-escnn-c8-s{args.seed}")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         monitor="valid_accuracy", mode="max", progress=False)
    trainer = Trainer(model, data["train"], data["valid"], images.loss_fn, images.metrics_fn, config, out,
                      identity={"task": "images", "model": "escnn-c8", "channels": args.channels})
    params = sum(p.numel() for p in model.parameters())
    print(f"escnn c8: {params} parameters", flush=True)
    trainer.fit()
    trainer.load(os.path.join(out, "best.pt"))
    test = trainer.evaluate(data["test"], desc="test")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"model": "escnn-c8", "seed": args.seed, "parameters": params, "best_epoch": trainer.best_epoch,
                   **{f"test_{k}": v for k, v in test.items()}}, f, indent=2)
    print(f"test error {100 * test['error']:.2f}% (best validation epoch {trainer.best_epoch})")


if __name__ == "__main__":
    main()
