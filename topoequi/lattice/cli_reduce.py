"""Reduce lattice bases read from .npy / .txt files and write the reduced bases and U.

Input: a ``.npy`` holding one basis ``[n, n]`` or a batch ``[B, n, n]``, or a
``.txt`` holding one basis (whitespace-separated, one matrix row per line).
Basis vectors are columns unless ``--rows`` is given (fplll's convention).
Output: ``<output>.reduced.<ext>`` and ``<output>.U.<ext>`` in the input's format
and convention (for rows, ``reduced = U B``), with ``U`` exactly unimodular.
Integer input stays integer (exact); float input is reduced in float64.
"""
from __future__ import annotations

import argparse
from pathlib import Path

METHODS = ("network", "lll", "fpylll", "lll+network")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="bases: .npy ([n, n] or [B, n, n]) or .txt ([n, n])")
    parser.add_argument("--output", default=None, help="output prefix (default: the input path without extension)")
    parser.add_argument("--method", choices=METHODS, default="network",
                        help="network (default), lll (reference), fpylll, or lll+network (network after LLL)")
    parser.add_argument("--checkpoint", default=None,
                        help="best.pt of `topoequi train lattice` (default: an untrained network, i.e. the "
                             "classical Gauss/Babai proposals)")
    parser.add_argument("--steps", type=int, default=None, help="reduction steps (default: the checkpoint's x2)")
    parser.add_argument("--rows", action="store_true", help="basis vectors are rows of the input matrices")
    parser.add_argument("--batch-size", type=int, default=512, help="bases per network batch (default 512)")
    parser.add_argument("--delta", type=float, default=0.99, help="LLL parameter delta (default 0.99)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def read_bases(path: str | Path, rows: bool = False):
    """Read bases from ``.npy`` or ``.txt``; returns an array ``[n, n]`` or ``[B, n, n]`` with columns as vectors."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input '{path}' does not exist")
    if path.suffix == ".npy":
        arr = np.load(path, allow_pickle=False)
    elif path.suffix == ".txt":
        arr = np.loadtxt(path, ndmin=2)
        if np.isfinite(arr).all() and np.array_equal(arr, np.round(arr)) and np.abs(arr).max() < 2**53:
            arr = arr.astype(np.int64)
    else:
        raise ValueError(f"input must be a .npy or .txt file, got '{path.suffix}'")
    if arr.ndim not in (2, 3):
        raise ValueError(f"input must hold [n, n] or [B, n, n] bases, got shape {arr.shape}")
    from topoequi.lattice.basis import check_basis

    return check_basis(np.swapaxes(arr, -1, -2) if rows else arr, f"input '{path}'")


def write_matrix(path: Path, arr, rows: bool) -> None:
    import numpy as np

    arr = np.swapaxes(arr, -1, -2) if rows else arr
    if path.suffix == ".npy" and arr.dtype != object:
        np.save(path, arr)
    elif arr.ndim == 2:
        fmt = "%d" if arr.dtype == object or np.issubdtype(arr.dtype, np.integer) else "%.17g"
        np.savetxt(path, arr, fmt=fmt)
    else:
        raise ValueError(f"cannot write {arr.dtype} batch to {path} (entries beyond int64 need a single .txt basis)")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from topoequi.lattice import is_unimodular, lll_reduce, log_orthogonality_defect
    from topoequi.lattice.unimodular import integer_matmul

    torch.set_num_threads(args.threads)
    bases = read_bases(args.input, rows=args.rows)
    steps = args.steps
    model = None
    if "network" in args.method:
        from topoequi.models import NeuralLatticeReducer

        if args.checkpoint:
            from topoequi.train.lattice import load_reducer

            model, config = load_reducer(args.checkpoint)
            if config["dim"] != bases.shape[-1]:
                print(f"note: checkpoint trained for n={config['dim']}, input has n={bases.shape[-1]}")
            steps = steps if steps is not None else 2 * config["steps"]
        else:
            model = NeuralLatticeReducer()
            steps = steps if steps is not None else 16
    if args.method == "fpylll":
        from topoequi.lattice import fpylll_lll

        reduced, u = fpylll_lll(bases, delta=args.delta)
    elif args.method in ("lll", "lll+network"):
        reduced, u = lll_reduce(bases, delta=args.delta)
    else:
        reduced, u = bases, np.broadcast_to(np.eye(bases.shape[-1], dtype=np.int64), bases.shape).copy()
    if model is not None:
        reduced, u_net = model.reduce(reduced, steps=steps, batch_size=args.batch_size, progress=True)
        u = integer_matmul(u, u_net)
    if not np.all(is_unimodular(u)):  # cannot happen by construction; never write a wrong U
        raise RuntimeError("internal error: the transformation is not unimodular")
    source = Path(args.input)
    prefix = Path(args.output) if args.output else source.with_suffix("")
    ext = source.suffix
    write_matrix(prefix.with_name(prefix.name + ".reduced" + ext), reduced, args.rows)
    write_matrix(prefix.with_name(prefix.name + ".U" + ext), u, args.rows)
    before, after = log_orthogonality_defect(bases), log_orthogonality_defect(reduced)
    print(f"{np.size(before)} basis(es), n={bases.shape[-1]}, method {args.method}: mean log orthogonality "
          f"defect {np.mean(before):.4f} -> {np.mean(after):.4f}; wrote {prefix}.reduced{ext} and {prefix}.U{ext}")
    return 0
