"""Point-cloud classification under rotation protocols: implicit steerable kernels beside PointNet++ and DGCNN.

    topoequi train pointcloud --dataset shapes|modelnet40|modelnet10 --model implicit|pointnet++|dgcnn
                              [--train-rotation none|z|so3] [--test-rotation none|z|so3] [--root DIR]

Training shapes are rotated afresh at every draw by the ``--train-rotation``
augmentation (``none``, about the z axis, or uniform in SO(3)); the epoch is
chosen on validation shapes under the same augmentation. The best checkpoint
is then tested under every protocol (test shapes unrotated, rotated about z,
rotated uniformly in SO(3), one fixed seeded rotation per shape), and
``--test-rotation`` names the headline number. Writes ``results.json`` beside
the engine's log, checkpoints and curves.
"""
from __future__ import annotations

import argparse
import os

import torch
from torch import Tensor
from torch.utils.data import Dataset

from topoequi.train.qm9 import parse_hparams

DATASETS = ("shapes", "modelnet40", "modelnet10")
MODELS = ("implicit", "pointnet++", "dgcnn")
ROTATIONS = {"none": None, "z": "SO(2)@R3", "so3": "SO(3)"}
"""Rotation protocol -> the group its rotations are drawn from (uniformly)."""


class Rotated(Dataset):
    """``dataset`` with every shape rotated by a uniform element of ``ROTATIONS[mode]``: a fresh one
    at each draw (the global torch generator: augmentation), or with ``seed`` a fixed one per index."""

    def __init__(self, dataset, mode: str, seed: int | None = None):
        if mode not in ROTATIONS:
            raise ValueError(f"Rotated: mode must be one of {tuple(ROTATIONS)}, got {mode!r}")
        from topoequi.symmetry import group_from_name

        self.dataset, self.mode, self.seed = dataset, mode, seed
        self.group = None if ROTATIONS[mode] is None else group_from_name(ROTATIONS[mode])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        data = self.dataset[index]
        if self.group is None:
            return data
        generator = None if self.seed is None else torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        rotation = self.group.sample(1, generator=generator)[0].to(data.pos.dtype)
        data = data.clone()
        data.pos = data.pos @ rotation.T
        return data


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="shapes", choices=DATASETS)
    parser.add_argument("--model", default="implicit", choices=MODELS)
    parser.add_argument("--group", default="SO(3)", help="symmetry of the implicit model: O(3), SO(3), SO(2), trivial")
    parser.add_argument("--train-rotation", default="none", choices=tuple(ROTATIONS))
    parser.add_argument("--test-rotation", default="so3", choices=tuple(ROTATIONS))
    parser.add_argument("--root", default=None, help="ModelNet folder (raw/<category>/train|test/*.off)")
    parser.add_argument("--num-points", type=int, default=None,
                        help="points per shape (default 256 shapes, 1024 ModelNet)")
    parser.add_argument("--per-class", type=int, default=60, help="training shapes per class of the shape set")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--norm-momentum", type=float, default=0.1,
                        help="batch-norm momentum of every model (0.5 suits runs of a few hundred steps)")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                        help="model hyper-parameter, e.g. --hp k=20 (repeatable)")
    parser.add_argument("--out", default=None,
                        help="run folder (default: runs/pointcloud-DATASET-MODEL-TRAIN-ROTATION)")
    from topoequi.train.options import add_engine_arguments

    add_engine_arguments(parser)


def load_splits(args: argparse.Namespace) -> tuple[dict, int]:
    """``{"train", "valid", "test"}`` lists of shapes and the number of classes."""
    if args.dataset == "shapes":
        from topoequi.datasets.shapes import SHAPE_CLASSES, procedural_shapes

        sizes = {"train": args.per_class, "valid": max(1, args.per_class // 4), "test": max(1, args.per_class // 2)}
        return ({split: procedural_shapes(split, n, args.num_points, seed=0) for split, n in sizes.items()},
                len(SHAPE_CLASSES))
    from topoequi.datasets.modelnet import CATEGORIES, ModelNet

    name = args.dataset[len("modelnet"):]
    train = ModelNet(args.root, name, train=True, num_points=args.num_points, progress=not args.no_progress)
    test = ModelNet(args.root, name, train=False, num_points=args.num_points, progress=not args.no_progress)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0)).tolist()
    num_valid = max(1, len(train) // 10)
    return ({"train": train[order[num_valid:]], "valid": train[order[:num_valid]], "test": test},
            len(CATEGORIES[name]))


def build_model(name: str, num_classes: int, group: str, hparams: dict) -> torch.nn.Module:
    """The classifier ``name`` of :data:`MODELS` (``hparams``, e.g. ``norm_momentum``, passed to its constructor)."""
    if name == "implicit":
        from topoequi.models.steerable_point_classifier import SteerablePointClassifier

        return SteerablePointClassifier(num_classes, group=group, **hparams)
    if name == "pointnet++":
        from topoequi.models.pointnet2 import PointNet2

        return PointNet2(num_classes, **hparams)
    from topoequi.models.dgcnn import DGCNN

    return DGCNN(num_classes, **hparams)


def objectives():
    """``loss_fn`` (cross-entropy) and ``metrics_fn`` (accuracy and cross-entropy per shape)."""
    def loss_fn(out: Tensor, batch) -> Tensor:
        return torch.nn.functional.cross_entropy(out, batch.y, reduction="none")

    def metrics_fn(out: Tensor, batch) -> dict[str, Tensor]:
        return {"accuracy": (out.argmax(1) == batch.y).double(),
                "nll": torch.nn.functional.cross_entropy(out.double(), batch.y, reduction="none")}

    return loss_fn, metrics_fn


def check_args(args: argparse.Namespace):
    """Check every flag before any data is loaded; return the loop settings."""
    from topoequi.train.options import engine_config

    if args.num_points is None:
        args.num_points = 256 if args.dataset == "shapes" else 1024
    for name in ("num_points", "per_class", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive int, got {getattr(args, name)}")
    if args.dataset != "shapes" and args.root is None:
        raise ValueError(f"--root is required for {args.dataset}: the folder holding raw/<category>/train|test/*.off")
    args.out = args.out or os.path.join("runs", f"pointcloud-{args.dataset}-{args.model}-{args.train_rotation}")
    parse_hparams(args.hp)
    return engine_config(args, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         weight_decay=args.weight_decay, seed=args.seed, monitor="valid_nll")


def train(args: argparse.Namespace) -> dict:
    """Train (or resume), then test ``best.pt`` under every rotation protocol; return the results."""
    from topoequi.files import load_checkpoint, write_json
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.engine import Trainer

    config = check_args(args)
    splits, num_classes = load_splits(args)
    hparams = {"norm_momentum": args.norm_momentum} | parse_hparams(args.hp)
    identity = {"task": "pointcloud", "dataset": args.dataset, "model": args.model, "hparams": hparams,
                "group": args.group if args.model == "implicit" else None, "num_points": args.num_points,
                "per_class": args.per_class, "train_rotation": args.train_rotation}
    seed_everything(args.seed)
    model = build_model(args.model, num_classes, args.group, hparams)
    loss_fn, metrics_fn = objectives()
    trainer = Trainer(model, Rotated(splits["train"], args.train_rotation),
                      Rotated(splits["valid"], args.train_rotation, seed=1), loss_fn, metrics_fn, config, args.out,
                      identity=identity)
    history = trainer.fit(resume=args.resume, overwrite=args.overwrite)
    best = load_checkpoint(os.path.join(args.out, "best.pt"), expected_config=identity)
    model.load_state_dict(best["model"])
    test = {mode: trainer.evaluate(Rotated(splits["test"], mode, seed=2), desc=f"test {mode}")["accuracy"]
            for mode in ROTATIONS}
    seconds = sum(row["seconds"] for row in history)
    results = {"dataset": args.dataset, "model": args.model, "group": identity["group"],
               "train_rotation": args.train_rotation, "test_rotation": args.test_rotation,
               "test_accuracy": test[args.test_rotation], "test_accuracy_by_rotation": test,
               "best_valid_nll": trainer.best, "best_epoch": int(best["epoch"]), "epochs": len(history),
               "sizes": {split: len(shapes) for split, shapes in splits.items()},
               "parameters": sum(p.numel() for p in model.parameters()),
               "epoch_seconds": seconds / max(len(history), 1)}
    write_json(os.path.join(args.out, "results.json"), results | {"history": history})
    return results


def run(args: argparse.Namespace) -> int:
    from topoequi.files import RunFolder

    check_args(args)
    with RunFolder(args.out, resume=args.resume, overwrite=args.overwrite):
        results = train(args)
    by_rotation = ", ".join(f"{mode} {100 * acc:.1f}%" for mode, acc in results["test_accuracy_by_rotation"].items())
    print(f"{results['model']} on {results['dataset']} (train rotation {results['train_rotation']}): test accuracy "
          f"{100 * results['test_accuracy']:.1f}% under {results['test_rotation']} ({by_rotation}; best epoch "
          f"{results['best_epoch']}) -> {args.out}")
    return 0
