"""``topoequi bound``: the equivariant PAC-Bayes bound and NBS18's bound of a trained network, term by term.

    topoequi bound CHECKPOINT [--data rotated-mnist|rotated-mnist-o2|FILE.npz] [--limit N] [--downsample 2] [--crop 12]
                   [--gamma G | --quantile 0.1] [--delta 0.05] [--device auto|cpu|cuda:N]

CHECKPOINT holds ``"config"`` (``group``, ``fields``, ``kernel_size`` and, optionally, ``pooling`` and
``field_kinds`` of :func:`topoequi.theory.networks.homogeneous_cnn`) and ``"model"`` (its state dict), as written by
:func:`save_bound_checkpoint`. The bound is computed on the training examples: the training split
of the embedded rotated MNIST (``--downsample``-times averaged), or ``images [M, C, H, W]`` and
``labels [M]`` of an ``.npz`` file. The margin is ``--gamma`` or the ``--quantile`` quantile of the
training margins. A usage error raises ``ValueError``: ``topoequi`` prints one ``error:`` line, exit 2.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by save_bound_checkpoint")
    parser.add_argument("--data", default="rotated-mnist", help="rotated-mnist, rotated-mnist-o2 or an .npz file")
    parser.add_argument("--limit", type=int, default=None, help="the first N training examples")
    parser.add_argument("--downsample", type=int, default=2, help="average-pool rotated MNIST by this factor")
    parser.add_argument("--crop", type=int, default=None,
                        help="keep the central CROP x CROP pixels of rotated MNIST (12: the benchmark's input)")
    margin = parser.add_mutually_exclusive_group()
    margin.add_argument("--gamma", type=float, default=None, help="the margin gamma (> 0)")
    margin.add_argument("--quantile", type=float, default=0.1, help="gamma = this quantile of the training margins")
    parser.add_argument("--delta", type=float, default=0.05, help="confidence: the bound holds w.p. 1 - delta")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")


def save_bound_checkpoint(path: str | Path, model: torch.nn.Module, group: str, fields, kernel_size: int = 5,
                          pooling: str = "average", field_kinds=("regular",)) -> None:
    """Write ``model`` (a :func:`~topoequi.theory.networks.homogeneous_cnn` with copies ``fields`` of the
    field kinds ``field_kinds``) for ``topoequi bound``."""
    from topoequi.files import atomic_save

    config = {"task": "bound", "group": group, "fields": list(fields), "kernel_size": kernel_size,
              "pooling": pooling, "field_kinds": list(field_kinds)}
    atomic_save({"config": config, "model": {k: v.cpu() for k, v in model.state_dict().items()}}, path)


def load_model(path: str) -> torch.nn.Module:
    from topoequi.files import load_checkpoint
    from topoequi.theory.networks import homogeneous_cnn

    ckpt = load_checkpoint(path)
    config = ckpt.get("config", {})
    missing = [k for k in ("group", "fields", "kernel_size") if k not in config]
    if missing or "model" not in ckpt:
        raise ValueError(f"checkpoint '{path}' is not a bound checkpoint: it lacks {', '.join(missing) or 'model'} "
                         f"(write it with topoequi.commands.bound.save_bound_checkpoint)")
    model = homogeneous_cnn(config["group"], tuple(config["fields"]), config["kernel_size"],
                            pooling=config.get("pooling", "average"),
                            fields=tuple(config.get("field_kinds", ("regular",))))
    model.load_state_dict(ckpt["model"])
    return model.eval()


def load_examples(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    if args.limit is not None and args.limit < 0:
        raise ValueError(f"--limit must be non-negative, got {args.limit}")
    if args.data.endswith(".npz"):
        if not Path(args.data).is_file():
            raise FileNotFoundError(f"--data: file '{args.data}' does not exist")
        with np.load(args.data) as f:
            if "images" not in f or "labels" not in f:
                raise ValueError(f"--data: '{args.data}' must hold arrays 'images' [M, C, H, W] and 'labels' [M]")
            images, labels = torch.from_numpy(f["images"]).float(), torch.from_numpy(f["labels"]).long()
        return images[:args.limit], labels[:args.limit]
    if args.data not in ("rotated-mnist", "rotated-mnist-o2"):
        raise ValueError(f"--data must be rotated-mnist, rotated-mnist-o2 or an .npz file, got {args.data!r}")
    if args.downsample < 1:
        raise ValueError(f"--downsample must be a positive int, got {args.downsample}")
    from topoequi.datasets.rotated_mnist import RotatedMNIST

    data = RotatedMNIST("train", reflections=args.data.endswith("o2"), seed=0, limit=args.limit)
    if len(data) == 0:
        return torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long)
    images = F.avg_pool2d(torch.cat([d.image for d in data]), args.downsample)
    if args.crop is not None:
        if not 0 < args.crop <= images.shape[-1]:
            raise ValueError(f"--crop must be in [1, {images.shape[-1]}], got {args.crop}")
        a = (images.shape[-1] - args.crop) // 2
        images = images[..., a:a + args.crop, a:a + args.crop]
    return images, torch.cat([d.y for d in data])


def format_bounds(equivariant, nbs18) -> str:
    """The two bounds side by side, term by term, then each layer's terms."""
    lines = [f"{'term':<28} {'equivariant':>14} {'NBS18':>14}"]
    for (key, a), b in zip(equivariant.terms().items(), nbs18.terms().values()):
        lines.append(f"{key:<28} {a:>14.6g} {b:>14.6g}")
    lines.append(f"{'layer':<28} {'||A||_2':>10} {'||W||_F^2 eq':>13} {'NBS18':>11} {'eta_l eq':>9} "
                 f"{'NBS18':>7} {'||P||_2':>8}")
    for i, (e, d) in enumerate(zip(equivariant.layers, nbs18.layers)):
        lines.append(f"{f'{i} {e.name}':<28} {e.spectral:>10.4g} {e.frobenius_sq:>13.4g} {d.frobenius_sq:>11.4g} "
                     f"{e.variance_factor:>9} {d.variance_factor:>7} {e.lift:>8.4g}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from topoequi.theory import margins, pac_bayes_bounds
    from topoequi.train.device import resolve_device

    if args.gamma is not None and not args.gamma > 0:
        raise ValueError(f"--gamma must be positive, got {args.gamma}")
    if not 0 < args.quantile < 1:
        raise ValueError(f"--quantile must be in (0, 1), got {args.quantile}")
    if not 0 < args.delta < 1:
        raise ValueError(f"--delta must be in (0, 1), got {args.delta}")
    device = resolve_device(args.device)
    model = load_model(args.checkpoint).to(device)
    images, labels = load_examples(args)
    if images.shape[0] < 2:
        raise ValueError(f"--data: the bound needs at least 2 training examples, got {images.shape[0]}")
    gamma = args.gamma
    if gamma is None:
        gamma = float(torch.quantile(margins(model, images, labels), args.quantile))
        if not gamma > 0:
            raise ValueError(f"--quantile {args.quantile} of the training margins is {gamma:.3g} <= 0 (the model "
                             f"errs on more than that fraction); pass --gamma or a larger --quantile")
    equivariant, nbs18 = pac_bayes_bounds(model, images, labels, gamma, args.delta)
    print(f"{args.checkpoint}: {images.shape[0]} training examples, gamma {gamma:.4g}, delta {args.delta}, "
          f"{equivariant.seconds:.2f} s")
    print(format_bounds(equivariant, nbs18))
    return 0
