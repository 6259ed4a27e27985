"""The ``topoequi`` command.

Sub-commands are imported only when chosen, so that ``topoequi --help`` stays
fast: :data:`TRAIN_TASKS` and :data:`COMMANDS` map a name to the module that
implements it (which defines ``add_arguments(parser)`` and ``run(args) -> int``)
and to its one-line help.

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

TRAIN_TASKS: dict[str, tuple[str, str]] = {
    "qm9": ("topoequi.train.qm9", "regress one QM9 target (implicit / steerable kernels, SchNet, DimeNet++)"),
    "pointcloud": ("topoequi.train.pointcloud", "classify point clouds under rotation protocols"),
    "images": ("topoequi.train.images", "classify rotated MNIST with E(2)-steerable CNNs or a plain CNN"),
    "cryoem": ("topoequi.train.cryoem", "amortized cryo-EM pose inference and reconstruction (D4 or plain encoder)"),
    "sheaf": ("topoequi.train.sheaf", "node classification with local homology sheaf networks"),
    "lattice": ("topoequi.train.lattice", "self-supervised neural lattice reduction"),
    "mixed-symmetry": ("topoequi.train.mixed_symmetry", "learnable degree of equivariance on mixed-symmetry digits"),
}
"""``topoequi train <task>``: task name -> (module with ``add_arguments`` and ``run``, one-line help)."""

COMMANDS: dict[str, tuple[str, str]] = {
    "evaluate": ("topoequi.commands.evaluate", "evaluate a training checkpoint on its test split"),
    "predict": ("topoequi.predict_cli",
                "predict with a trained model on new molecules (XYZ, SDF, SMILES), point clouds or images"),
    "reduce": ("topoequi.commands.reduce", "reduce lattice bases with LLL or a trained reducer"),
    "quantize": ("topoequi.commands.quantize",
                 "int8 TorchScript file of a trained MobileNetV2 digit classifier (bitwise D4-invariant)"),
    "bound": ("topoequi.commands.bound",
              "PAC-Bayes generalization bounds (equivariant and NBS18) of a trained network, term by term"),
}
"""Other sub-commands: name -> (module with ``add_arguments`` and ``run``, one-line help)."""


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


def _chosen(argv: list[str], names) -> str | None:
    """The first positional word of ``argv`` if it names a sub-command (what the user chose)."""
    words = [a for a in argv if not a.startswith("-")]
    return words[0] if words and words[0] in names else None


def _add(sub, name: str, module: str, help: str, chosen: bool) -> None:
    """A sub-command; its module (and its arguments) only when it is the one ``chosen``."""
    p = sub.add_parser(name, help=help, description=help, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    if chosen:
        mod = importlib.import_module(module)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``topoequi``, with the arguments of the sub-command that ``argv`` chooses
    (all sub-commands when ``argv`` is ``None``)."""
    from topoequi import __version__

    parser = argparse.ArgumentParser(
        prog="topoequi",
        description="Topological and equivariant deep learning on PyTorch Geometric.")
    parser.add_argument("--version", action="version", version=f"topoequi {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("info", help="versions, devices, optional packages, cache folder").set_defaults(func=info)
    command = _chosen(argv, ["train", *COMMANDS]) if argv is not None else None
    train = sub.add_parser("train", help="train a model on one of the built-in tasks")
    tasks = train.add_subparsers(dest="task", metavar="TASK", required=True)
    task = _chosen(argv[argv.index("train") + 1:], TRAIN_TASKS) if command == "train" else None
    for name, (module, help) in TRAIN_TASKS.items():
        _add(tasks, name, module, help, argv is None or name == task)
    for name, (module, help) in COMMANDS.items():
        _add(sub, name, module, help, argv is None or name == command)
    return parser


def command_name(args: argparse.Namespace) -> str:
    return " ".join(["topoequi", *(v for v in (args.command, getattr(args, "task", None)) if v)])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
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
