"""The options every training command shares, checked before any data is loaded.

:func:`add_engine_arguments` adds ``--device``, ``--precision``, ``--devices``, ``--threads``,
``--no-progress``, ``--resume`` / ``--overwrite``; :func:`engine_config` checks them and turns
them, with the task's own loop settings, into a :class:`~topoequi.train.engine.TrainConfig`.
"""
from __future__ import annotations

import argparse

from topoequi.train.device import PRECISIONS


def add_engine_arguments(parser: argparse.ArgumentParser, processes: bool = False, resume: bool = True,
                         data_path: bool = False) -> None:
    """The shared flags; ``processes`` adds ``--devices N`` (data parallel), ``resume`` adds ``--resume``,
    ``data_path`` adds ``--data-path`` (where batches of an in-memory dataset are built)."""
    group = parser.add_argument_group("engine")
    group.add_argument("--device", default="auto",
                       help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N")
    group.add_argument("--precision", default="float32", choices=PRECISIONS,
                       help="float32; tf32 (TF32 matmuls on CUDA); bf16-mixed (bfloat16 autocast)")
    if processes:
        group.add_argument("--devices", type=int, default=1,
                           help="processes for DistributedDataParallel: one per GPU (NCCL) with a CUDA "
                                "--device, CPU processes (gloo) otherwise")
    if data_path:
        group.add_argument("--data-path", default="auto", choices=("auto", "loader", "device"),
                           help="where batches are built: the DataLoader on the CPU, or gathered on the device "
                                "from a dataset kept there (auto: device on CUDA when the dataset fits)")
    group.add_argument("--threads", type=int, default=None, help="torch CPU threads per process")
    group.add_argument("--no-progress", action="store_true", help="no progress bars (they show only on a terminal)")
    if resume:
        group.add_argument("--resume", action="store_true", help="continue the run in --out")
    group.add_argument("--overwrite", action="store_true", help="replace the run in --out instead of refusing")


def check_engine_arguments(args: argparse.Namespace) -> None:
    """Reject bad shared flags with a one-line ``ValueError`` naming the flag (no data touched)."""
    import torch

    from topoequi.train.device import check_process_count, resolve_device

    device = resolve_device(args.device)
    check_process_count(device, getattr(args, "devices", 1))
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if getattr(args, "resume", False) and args.overwrite:
        raise ValueError("--resume and --overwrite exclude each other")


def engine_config(args: argparse.Namespace, **loop):
    """A checked :class:`~topoequi.train.engine.TrainConfig` from the shared flags and ``loop`` settings."""
    from topoequi.train.engine import TrainConfig

    check_engine_arguments(args)
    if hasattr(args, "data_path"):
        loop.setdefault("data_path", args.data_path)
    return TrainConfig(device=args.device, precision=args.precision, progress=not args.no_progress, **loop)
