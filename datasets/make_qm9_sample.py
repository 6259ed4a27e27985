"""Regenerate ``datasets/qm9_sample.npz``, the QM9 sample embedded in the repository.

Recipe: read the full QM9 (130,831 molecules) from the qm9pack wheel, keep the
first 10 molecules (methane, ammonia, water, ... used by the tests) plus 4,990
drawn uniformly without replacement from the rest with
``numpy.random.RandomState(0)``, in QM9 index order; derive bonds with RDKit and
convert the targets exactly as :class:`topoequi.datasets.QM9` does; save the
packed arrays with ``numpy.savez_compressed``.

    pip install 'topoequi[qm9]'
    python datasets/make_qm9_sample.py            # writes datasets/qm9_sample.npz
    python datasets/make_qm9_sample.py --all --out qm9_full.npz   # all 130,831 molecules (about 38 MB)

The full file is what a machine that cannot install qm9pack or RDKit trains on:
``topoequi train qm9 --source qm9_full.npz`` (or ``QM9(source="qm9_full.npz")``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from topoequi.datasets.local import file_sha256
from topoequi.datasets.qm9_packed import PACKED_FORMAT, pack_molecules
from topoequi.datasets.qm9_raw import read_qm9pack

FIRST = 10
SIZE = 5000
SEED = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("qm9_sample.npz")))
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--all", action="store_true", help="every molecule (the --size sample otherwise)")
    args = parser.parse_args()

    frame = read_qm9pack()
    if args.all:
        rows = np.arange(len(frame))
    else:
        rest = np.random.RandomState(args.seed).choice(
            np.arange(FIRST, len(frame)), size=args.size - FIRST, replace=False)
        rows = np.sort(np.concatenate([np.arange(FIRST), rest]))
    packed = pack_molecules(frame.iloc[rows].reset_index(drop=True))
    packed.pop("raw_y")  # y (float32, converted) is what the dataset uses
    np.savez_compressed(args.out, format=np.array(PACKED_FORMAT), **packed)
    print(f"wrote {args.out}: {len(rows)} molecules, {len(packed['z'])} atoms, "
          f"bond methods {np.bincount(packed['bond_method'], minlength=3).tolist()} "
          f"(xyz2mol, pruned, connectivity), "
          f"sha256 {file_sha256(args.out)}")


if __name__ == "__main__":
    main()
