"""Reduce lattice bases read from .npy / .txt files and write the reduced bases and U.

Input: a ``.npy`` holding one basis ``[n, n]`` or a non-empty batch ``[B, n, n]``, or
a ``.txt`` holding one basis (whitespace-separated, one matrix row per line; integer
entries of any size are read exactly). Basis vectors are columns unless ``--rows`` is
given (fplll's convention). Output: ``<output>.reduced.<ext>`` and ``<output>.U.<ext>``
in the input's format and convention (for rows, ``reduced = U B``), with ``U`` exactly
unimodular. Integer input stays integer (exact); float input is reduced in float64
after an exact rescaling by a power of two, so its scale does not matter.
Every mistake in the arguments or the input is a one-line ``ValueError`` raised
before any work is done; settings that would do nothing are refused.
"""
from __future__ import annotations

import argparse
from pathlib import Path

METHODS = ("network", "lll", "fpylll", "lll+network")
NETWORK_METHODS = ("network", "lll+network")
LLL_METHODS = ("lll", "fpylll", "lll+network")
DEFAULT_DELTA = 0.99
DEFAULT_BATCH_SIZE = 512


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="bases: .npy ([n, n] or [B, n, n]) or .txt ([n, n])")
    parser.add_argument("--output", default=None, help="output prefix (default: the input path without extension)")
    parser.add_argument("--method", choices=METHODS, default="network",
                        help="network, lll (reference), fpylll, or lll+network (network after LLL)")
    parser.add_argument("--checkpoint", default=None,
                        help="best.pt of `topoequi train lattice` (network methods; default: an untrained "
                             "network, i.e. the classical Gauss/Babai proposals)")
    parser.add_argument("--steps", type=int, default=None,
                        help="network reduction steps, >= 1 (default: the checkpoint's x2, else 16)")
    parser.add_argument("--rows", action="store_true", help="basis vectors are rows of the input matrices")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"bases per network batch, >= 1 (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--delta", type=float, default=None,
                        help=f"LLL parameter in (1/4, 1] of the LLL methods (default {DEFAULT_DELTA})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, >= 1")
    parser.add_argument("--device", default="auto", help="where the network runs: auto (CUDA when available, "
                        "else CPU), cpu, cuda or cuda:N")


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse bad values and settings that would have no effect with ``--method`` (one line each)."""
    for flag, value in (("--threads", args.threads), ("--steps", args.steps), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be at least 1, got {value}")
    if args.method not in NETWORK_METHODS:
        for flag, value in (("--steps", args.steps), ("--batch-size", args.batch_size),
                            ("--checkpoint", args.checkpoint)):
            if value is not None:
                raise ValueError(f"{flag} has no effect with --method {args.method} (it sets the network "
                                 f"of --method {' / '.join(NETWORK_METHODS)})")
    if args.delta is not None:
        if args.method not in LLL_METHODS:
            raise ValueError(f"--delta has no effect with --method {args.method} (it is the LLL parameter of "
                             f"--method {' / '.join(LLL_METHODS)})")
        if not 0.25 < args.delta <= 1:
            raise ValueError(f"--delta must be in (1/4, 1], got {args.delta}")
    from topoequi.train.device import resolve_device

    resolve_device(args.device)
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        raise FileNotFoundError(f"--checkpoint '{args.checkpoint}' does not exist")
    if args.output is not None and not Path(args.output).absolute().parent.is_dir():
        raise FileNotFoundError(f"--output: folder '{Path(args.output).absolute().parent}' does not exist")


def _read_txt(path: Path):
    """One basis from text; integer tokens are read exactly (any size), anything else as float64."""
    import numpy as np

    from topoequi.lattice.unimodular import as_integer_matrix

    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"input '{path}' must hold one matrix, the same number of entries on every line")
    try:
        arr = np.array([[float(v) for v in r] for r in rows])
    except ValueError as exc:
        raise ValueError(f"input '{path}' holds an entry that is not a number ({exc})") from None
    if all(v.lstrip("+-").isdigit() for r in rows for v in r):
        exact = np.empty(arr.shape, dtype=object)
        exact[...] = [[int(v) for v in r] for r in rows]
        return as_integer_matrix(exact, f"input '{path}'")  # int64 where it fits
    integral = np.isfinite(arr).all() and np.array_equal(arr, np.round(arr)) and np.abs(arr).max() < 2**53
    return arr.astype(np.int64) if integral else arr


def read_bases(path: str | Path, rows: bool = False):
    """Read bases from ``.npy`` or ``.txt``; returns an array ``[n, n]`` or ``[B, n, n]`` with columns as vectors."""
    import numpy as np

    from topoequi.lattice.basis import check_basis

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input '{path}' does not exist")
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"input '{path}' is not a readable .npy array without pickles ({exc})") from None
    elif path.suffix == ".txt":
        arr = _read_txt(path)
    else:
        raise ValueError(f"input must be a .npy or .txt file, got '{path.suffix}'")
    if arr.ndim not in (2, 3):
        raise ValueError(f"input must hold [n, n] or [B, n, n] bases, got shape {arr.shape}")
    try:
        return check_basis(np.swapaxes(arr, -1, -2) if rows else arr, f"input '{path}'")
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def write_matrix(path: Path, arr, rows: bool) -> None:
    import numpy as np

    arr = np.swapaxes(arr, -1, -2) if rows else arr
    if arr.dtype == object and path.suffix == ".npy":
        raise ValueError(f"cannot write {path}: the result has entries beyond int64, which .npy holds only as "
                         "pickles; give the basis as a .txt file")
    if path.suffix == ".npy":
        np.save(path, arr)
    else:
        fmt = "%d" if arr.dtype == object or np.issubdtype(arr.dtype, np.integer) else "%.17g"
        np.savetxt(path, arr, fmt=fmt)


def _reduce(bases, args: argparse.Namespace):
    """``(reduced, U)`` by ``args.method``; the model is loaded only for the network methods."""
    import numpy as np

    from topoequi.lattice import lll_reduce
    from topoequi.lattice.unimodular import integer_matmul

    delta = DEFAULT_DELTA if args.delta is None else args.delta
    if args.method == "fpylll":
        from topoequi.lattice import fpylll_lll

        return fpylll_lll(bases, delta=delta)
    if args.method in LLL_METHODS:
        reduced, u = lll_reduce(bases, delta=delta)
    else:
        reduced, u = bases, np.broadcast_to(np.eye(bases.shape[-1], dtype=np.int64), bases.shape).copy()
    if args.method in NETWORK_METHODS:
        model, steps = _network(args, bases.shape[-1])
        batch_size = DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size
        reduced, u_net = model.reduce(reduced, steps=steps, batch_size=batch_size, progress=True)
        u = integer_matmul(u, u_net)
    return reduced, u


def _network(args: argparse.Namespace, dim: int):
    from topoequi.models import NeuralLatticeReducer
    from topoequi.train.device import resolve_device

    device = resolve_device(args.device)
    if not args.checkpoint:
        return NeuralLatticeReducer().to(device), args.steps or 16
    model, config = NeuralLatticeReducer.from_checkpoint(args.checkpoint, device)
    if config["dim"] != dim:
        print(f"note: checkpoint trained for n={config['dim']}, input has n={dim}")
    return model, args.steps or 2 * config["steps"]


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from topoequi.lattice import is_unimodular, log_orthogonality_defect

    check_arguments(args)
    torch.set_num_threads(args.threads)
    bases = read_bases(args.input, rows=args.rows)
    try:
        reduced, u = _reduce(bases, args)
    except OverflowError as exc:
        raise ValueError(f"input '{args.input}': {exc}") from None
    if not np.all(is_unimodular(u)):  # cannot happen by construction; never write a wrong U
        raise RuntimeError("internal error: the transformation is not unimodular")
    source = Path(args.input)
    prefix = Path(args.output) if args.output else source.with_suffix("")
    ext = source.suffix
    write_matrix(prefix.with_name(prefix.name + ".reduced" + ext), reduced, args.rows)
    write_matrix(prefix.with_name(prefix.name + ".U" + ext), u, args.rows)
    before, after = log_orthogonality_defect(bases), log_orthogonality_defect(reduced)
    identity = np.eye(bases.shape[-1], dtype=np.int64)
    changed = int(np.sum(~np.all((u == identity).reshape(-1, bases.shape[-1] ** 2), axis=-1)))
    print(f"{np.size(before)} basis(es), n={bases.shape[-1]}, method {args.method}: mean log orthogonality "
          f"defect {np.mean(before):.4f} -> {np.mean(after):.4f} ({changed} of {np.size(before)} changed); "
          f"wrote {prefix}.reduced{ext} and {prefix}.U{ext}")
    return 0
