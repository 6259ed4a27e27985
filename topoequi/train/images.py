"""Train an image classifier on rotated MNIST: steerable CNNs for C_N, D_N, SO(2), O(2) and a plain CNN.

    topoequi train images --dataset mnist-rot --model c8|d4|so2|o2|cnn|emobilenet|mobilenet [--channels 4,8,8,16]
                          [--width 0.5] [--shift 2] [--epochs 5] [--batch-size 64] [--lr 2e-3] [--seed 0] [--limit N]
                          [--out DIR] [--resume] [--threads N]

Data: :class:`topoequi.datasets.RotatedMNIST` (the 5,000 embedded MNIST digits at
uniform random orientations; ``mnist-rot-o2`` also mirrors half of them) or, with
``--dataset mnist-rot-amat --source DIR``, the standard MNIST-rot ``.amat`` files
(:class:`~topoequi.datasets.MNISTRot`; its last 2,000 training digits validate).
Models: :class:`~topoequi.models.steerable_image_cnn.SteerableImageCNN` with
``--channels`` fields per block; ``cnn`` is the plain CNN with the parameter count
of the C8 model of the same ``--channels``. The run folder holds ``log.csv``,
``best.pt`` / ``last.pt``, ``curves.png`` and ``results.json`` (test error of the
best validation epoch).
"""
from __future__ import annotations

import argparse
import os

import torch
import torch.nn.functional as F
from torch import Tensor

MODELS = {"c4": "C4", "c8": "C8", "c16": "C16", "d1": "D1", "d4": "D4", "d8": "D8", "so2": "SO(2)",
          "o2": "O(2)", "cnn": None, "emobilenet": "D4", "mobilenet": None}
"""``--model``: the group of the steerable CNN (``cnn``: the plain CNN matched to C8), or the D4-equivariant
MobileNetV2 (``emobilenet``, width ``--width``) and the plain MobileNetV2 matched to it (``mobilenet``)."""
MOBILENET_INPUT = 33
"""MobileNetV2's stride-2 layers keep D4 equivariance on sizes 32m + 1: digits are padded from 28 by (2, 3)."""
DATASETS = ("mnist-rot", "mnist-rot-o2", "mnist-rot-amat")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="mnist-rot", choices=DATASETS)
    parser.add_argument("--source", default=None, help="folder of the MNIST-rot .amat files (mnist-rot-amat)")
    parser.add_argument("--model", default="c8", help=f"one of {', '.join(MODELS)}")
    parser.add_argument("--channels", default="4,8,8,16", help="fields (plain: scaled channels) per block")
    parser.add_argument("--max-frequency", type=int, default=2, help="band limit of the SO(2) / O(2) fields")
    parser.add_argument("--width", type=float, default=0.5, help="width multiplier of the MobileNetV2 models")
    parser.add_argument("--shift", type=int, default=2,
                        help="random shifts of the training digits, in pixels (MobileNetV2 models)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, batches and orientations")
    parser.add_argument("--limit", type=int, default=None, help="use the first N digits of each split")
    parser.add_argument("--out", default=None, help="run folder (default: runs/images-DATASET-MODEL-sSEED)")
    from topoequi.train.options import add_engine_arguments

    add_engine_arguments(parser)


def parse_channels(text: str) -> tuple[int, ...]:
    try:
        channels = tuple(int(c) for c in text.split(","))
    except ValueError:
        channels = ()
    if not channels or min(channels) < 1:
        raise ValueError(f"--channels must be positive integers separated by commas, got {text!r}")
    return channels


def random_shift(images: Tensor, shift: int, generator: torch.Generator | None = None) -> Tensor:
    """Each image ``[B, C, H, W]`` moved by its own random whole-pixel offset in ``[-shift, shift]^2`` (zeros
    enter at the border)."""
    if not shift:
        return images
    height, width = images.shape[-2:]
    padded = F.pad(images, (shift,) * 4)
    offsets = torch.randint(2 * shift + 1, (len(images), 2), generator=generator).tolist()
    return torch.stack([padded[i, :, a:a + height, b:b + width] for i, (a, b) in enumerate(offsets)])


class PaddedDigits(torch.nn.Module):
    """``model`` on the batch's images padded from 28 to :data:`MOBILENET_INPUT` pixels (2 before, 3 after),
    in training each moved by a random offset of up to ``shift`` pixels: with five stride-2 layers on 33 pixels,
    unshifted training digits are memorised pixel by pixel (see ``benchmarks/BENCHMARKS.md``)."""

    def __init__(self, model: torch.nn.Module, shift: int = 0) -> None:
        super().__init__()
        self.model, self.shift = model, shift

    def forward(self, batch) -> Tensor:
        images = F.pad(batch.image, (2, 3, 2, 3))
        return self.model(random_shift(images, self.shift) if self.training else images)


def build_mobilenet(name: str, width: float, shift: int = 2) -> torch.nn.Module:
    """The D4-equivariant MobileNetV2 for digits, or the plain one with its parameter count."""
    from topoequi.models.equivariant_mobilenet_v2 import EquivariantMobileNetV2
    from topoequi.models.mobilenet_v2 import matching_plain_mobilenet_v2

    model = EquivariantMobileNetV2("D4", num_classes=10, width_mult=width, in_channels=1,
                                   input_size=MOBILENET_INPUT)
    return PaddedDigits(model if name == "emobilenet" else matching_plain_mobilenet_v2(model), shift)


def build_model(name: str, channels: tuple[int, ...], max_frequency: int = 2, width: float = 0.5,
                shift: int = 2) -> torch.nn.Module:
    """The model called ``name`` (see :data:`MODELS`); ``cnn`` matches the C8 model's parameter count."""
    from topoequi.models.steerable_image_cnn import SteerableImageCNN, matching_plain_cnn

    if name not in MODELS:
        raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {name!r}")
    if name in ("emobilenet", "mobilenet"):
        return build_mobilenet(name, width, shift)
    if MODELS[name] is None:
        return matching_plain_cnn(SteerableImageCNN("C8", channels))
    return SteerableImageCNN(MODELS[name], channels, max_frequency=max_frequency)


def load_splits(args: argparse.Namespace) -> dict:
    from topoequi.datasets.rotated_mnist import MNISTRot, RotatedMNIST

    if args.dataset == "mnist-rot-amat":
        if args.source is None:
            raise ValueError("--source is required with --dataset mnist-rot-amat (the folder of the .amat files)")
        train = MNISTRot(args.source, "train")
        cut = len(train) - 2000
        test = MNISTRot(args.source, "test", limit=args.limit)
        return {"train": train[:cut][:args.limit], "valid": train[cut:][:args.limit], "test": test}
    mirror = args.dataset == "mnist-rot-o2"
    return {split: RotatedMNIST(split, reflections=mirror, seed=args.seed, limit=args.limit)
            for split in ("train", "valid", "test")}


def loss_fn(logits: Tensor, batch) -> Tensor:
    return F.cross_entropy(logits, batch.y, reduction="none")


def metrics_fn(logits: Tensor, batch) -> dict[str, Tensor]:
    correct = (logits.argmax(-1) == batch.y).double()
    return {"accuracy": correct, "error": 1.0 - correct, "loss": loss_fn(logits, batch)}


def run(args: argparse.Namespace) -> int:
    from topoequi.files import RunFolder, write_json
    from topoequi.models.steerable_image_cnn import num_parameters
    from topoequi.train.engine import Trainer
    from topoequi.train.options import engine_config

    channels = parse_channels(args.channels)
    if args.shift < 0:
        raise ValueError(f"--shift must be a non-negative number of pixels, got {args.shift}")
    if args.model not in MODELS:
        raise ValueError(f"--model: expected one of {', '.join(MODELS)}, got {args.model!r}")
    config = engine_config(args, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           weight_decay=args.weight_decay, seed=args.seed, monitor="valid_accuracy", mode="max")
    out = args.out or os.path.join("runs", f"images-{args.dataset}-{args.model}-s{args.seed}")
    folder = RunFolder(out, resume=args.resume, overwrite=args.overwrite)
    torch.manual_seed(args.seed)
    model = build_model(args.model, channels, args.max_frequency, args.width, args.shift)
    data = load_splits(args)
    identity = {"task": "images", "dataset": args.dataset, "model": args.model, "channels": list(channels),
                "max_frequency": args.max_frequency, "width": args.width, "shift": args.shift,
                "limit": args.limit}
    trainer = Trainer(model, data["train"], data["valid"], loss_fn, metrics_fn, config, out, identity=identity)
    print(f"{args.model}: {num_parameters(model)} parameters, {len(data['train'])} training digits", flush=True)
    trainer.fit(resume=args.resume, overwrite=args.overwrite)
    trainer.load(os.path.join(out, "best.pt"))
    test = trainer.evaluate(data["test"], desc="test")
    results = {**identity, "seed": args.seed, "parameters": num_parameters(model), "best_epoch": trainer.best_epoch,
               "valid_accuracy": trainer.best, **{f"test_{k}": v for k, v in test.items()}}
    write_json(os.path.join(out, "results.json"), results)
    folder.release()
    print(f"test error {100 * test['error']:.2f}% (best validation epoch {trainer.best_epoch})")
    return 0
