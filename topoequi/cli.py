"""The ``topoequi`` command.

Sub-commands are looked up lazily so that ``topoequi --help`` stays fast:
``TRAIN_TASKS`` maps a task name to the module that implements it; that module
defines ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys

TRAIN_TASKS: dict[str, str] = {
    "lattice": "topoequi.train.lattice",
    "mixed-symmetry": "topoequi.train.mixed_symmetry",
    "qm9": "topoequi.train.qm9",
    "sheaf": "topoequi.train.sheaf",
}
"""``topoequi train <task>``: task name -> module with ``add_arguments`` and ``run``."""

COMMANDS: dict[str, str] = {
    "reduce": "topoequi.lattice.cli_reduce",
    "evaluate": "topoequi.train.evaluate",
}
"""Other sub-commands (``evaluate``, ``reduce``, ...): name -> module with ``add_arguments`` and ``run``."""


def _cache_dir() -> str:
    return os.environ.get("TOPOEQUI_HOME", os.path.join(os.path.expanduser("~"), ".cache", "topoequi"))


def info(args: argparse.Namespace | None = None) -> int:
    """Print versions, optional accelerators and cache locations."""
    import torch

    from topoequi import __version__
    from topoequi.typing import OPTIONAL

    def version(name: str) -> str:
        try:
            return importlib.import_module(name).__version__
        except Exception:  # noqa: BLE001 - any import failure means "not available"
            return "not installed"

    print(f"topoequi {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"torch {torch.__version__} (cuda available: {torch.cuda.is_available()}, "
          f"threads: {torch.get_num_threads()})")
    for name in ("torch_geometric", "escnn", "e3nn", "gudhi", "networkx", "numpy", "scipy"):
        print(f"{name} {version(name)}")
    print("optional: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in OPTIONAL.items()))
    print(f"cache: {_cache_dir()}  (set TOPOEQUI_HOME to move it)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="topoequi",
        description="Topological and equivariant deep learning on PyTorch Geometric.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("info", help="versions, optional accelerators, cache locations").set_defaults(func=info)
    if TRAIN_TASKS:
        train = sub.add_parser("train", help="train a model on one of the built-in tasks")
        tasks = train.add_subparsers(dest="task", metavar="TASK", required=True)
        for name, module in TRAIN_TASKS.items():
            mod = importlib.import_module(module)
            p = tasks.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0])
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
    for name, module in COMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
