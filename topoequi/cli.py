"""The ``topoequi`` command.

Sub-commands are looked up lazily so that ``topoequi --help`` stays fast:
``TRAIN_TASKS`` maps a task name to the module that implements it; that module
defines ``add_arguments(parser)`` and ``run(args) -> int``.

One error style for every command: a user error (a ``ValueError``,
``FileNotFoundError``, ``FileExistsError`` or ``ImportError`` out of a command)
prints one ``topoequi <command>: error: ...`` line and exits with 2; Ctrl-C
prints one line saying what was kept and exits with 130; ``--debug`` shows
the traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
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
    from topoequi.files import cache_home
    from topoequi.train.device import describe_devices

    cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
    print(f"torch {torch.__version__} ({cuda})")
    print("devices: " + "; ".join(describe_devices()))
    for name in ("torch_geometric", "escnn", "e3nn", "gudhi", "networkx", "numpy", "scipy"):
        print(f"{name} {version(name)}")
    print("optional: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in OPTIONAL.items()))
    print(f"cache: {cache_home()}  (set TOPOEQUI_HOME to move it)")
    return 0


USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, ImportError)
"""What a command raises for a mistake of its user (reported in one line, not as a traceback)."""


def build_parser() -> argparse.ArgumentParser:
    from topoequi import __version__

    parser = argparse.ArgumentParser(
        prog="topoequi",
        description="Topological and equivariant deep learning on PyTorch Geometric.")
    parser.add_argument("--version", action="version", version=f"topoequi {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fmt = argparse.ArgumentDefaultsHelpFormatter
    sub.add_parser("info", help="versions, optional accelerators, cache locations").set_defaults(func=info)
    if TRAIN_TASKS:
        train = sub.add_parser("train", help="train a model on one of the built-in tasks")
        tasks = train.add_subparsers(dest="task", metavar="TASK", required=True)
        for name, module in TRAIN_TASKS.items():
            mod = importlib.import_module(module)
            p = tasks.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0], formatter_class=fmt)
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
    for name, module in COMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0], formatter_class=fmt)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
    return parser


def command_name(args: argparse.Namespace) -> str:
    return " ".join(["topoequi", *(v for v in (args.command, getattr(args, "task", None)) if v)])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(f"{command_name(args)}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        out = getattr(args, "out", None)
        kept = (f"; {out} keeps the checkpoints of the finished epochs (add --resume to continue)"
                if out and getattr(args, "resume", None) is not None else "")
        print(f"{command_name(args)}: interrupted{kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
