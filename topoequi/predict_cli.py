"""Predict with a trained model on new molecules, point clouds or images: one row per input.

    topoequi predict CHECKPOINT INPUT... [--output results.csv|results.json] [--device auto|cpu|cuda:N]
                     [--batch-size 64] [--seed 0] [--no-progress]

For a QM9 checkpoint, INPUT is an ``.xyz`` (single or multi-frame), ``.sdf`` /
``.mol`` or ``.smi`` file, or a SMILES string (3D coordinates from RDKit's
ETKDG + MMFF94); rows: name, formula, target, prediction, unit, error. For a
point-cloud checkpoint, INPUT is an ``.off`` mesh or an ``.npy`` / ``.xyz`` /
``.txt`` / ``.pts`` / ``.csv`` point file, for an image checkpoint a picture
(``.png``, ``.jpg``, ...) or ``.npy`` file; rows: name, size, label,
probability, error. Structures that cannot be predicted keep their row with
the error and the others are still predicted. Without ``--output`` the rows
are printed as CSV. Exit status: 0 when every structure was predicted, 1 when
some failed; a usage error (bad checkpoint, output format, device) raises, and
``topoequi`` prints it as one ``error:`` line and exits with 2.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

FORMATS = (".csv", ".json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a best.pt or last.pt written by topoequi train")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="molecule files or SMILES, point-cloud or image files")
    parser.add_argument("--output", default=None, help="write the rows to this .csv or .json file")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    parser.add_argument("--batch-size", type=int, default=64, help="structures per forward pass")
    parser.add_argument("--seed", type=int, default=0, help="random seed of SMILES conformers and mesh samples")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def format_rows(rows: list[dict], fmt: str, header: dict) -> str:
    """CSV (one row per structure) or JSON (``header`` and ``predictions``)."""
    if fmt == ".json":
        return json.dumps(header | {"predictions": rows}, indent=1, allow_nan=False) + "\n"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["name", "error"], lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in row.items()}
                      for row in rows])
    return text.getvalue()


def run(args: argparse.Namespace) -> int:
    from topoequi.files import atomic_write
    from topoequi.inference import load

    fmt = Path(args.output).suffix.lower() if args.output else ".csv"
    if fmt not in FORMATS:
        raise ValueError(f"--output must end in {' or '.join(FORMATS)}, got {args.output!r}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be a positive int, got {args.batch_size}")
    model = load(args.checkpoint, device=args.device)
    predictions = model.predict(args.inputs, batch_size=args.batch_size, progress=not args.no_progress,
                                seed=args.seed)
    text = format_rows(model.table(predictions), fmt, model.header())
    if args.output:
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    failed = [p for p in predictions if p.error]
    for p in failed:
        print(f"topoequi predict: {p.name}: {p.error}", file=sys.stderr)
    print(f"topoequi predict: {len(predictions) - len(failed)} of {len(predictions)} structures predicted"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 1 if failed else 0
