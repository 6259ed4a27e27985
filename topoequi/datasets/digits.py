"""Handwritten digits as planar point clouds, with a task of mixed symmetry.

The 1,797 8x8 digits of the UCI "Optical Recognition of Handwritten Digits"
data (CC BY 4.0) ship in ``datasets/digits.npz`` (see ``datasets/README.md``).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from topoequi.graph import radius_graph
from topoequi.progress import progress_bar
from topoequi.symmetry import Dihedral

DIGITS_FILE = Path(__file__).resolve().parents[2] / "datasets" / "digits.npz"
CHIRAL_DIGITS = (2, 4, 5, 6, 7, 9)
"""Digits with no mirror axis: their mirror image is no rotation of them, so their handedness is visible."""


def load_digits(path: str | os.PathLike | None = None) -> tuple[Tensor, Tensor]:
    """``images [1797, 8, 8]`` (uint8, 0..16) and ``labels [1797]`` (int64) from the embedded file."""
    path = Path(path) if path is not None else DIGITS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"load_digits: no digits file at '{path}'; regenerate it with "
                                "'python datasets/make_digits.py'")
    with np.load(path, allow_pickle=False) as data:
        return torch.from_numpy(data["images"].astype(np.uint8)), torch.from_numpy(data["labels"].astype(np.int64))


def digit_point_cloud(image: Tensor, radius: float = 2.3) -> Data:
    """One image as a point cloud: the centres of its inked pixels on the unit grid, centred on the
    image centre (``pos`` ``[n, 2]``, ``x = (col - 3.5, 3.5 - row)``), their intensity / 16 as an
    invariant feature ``x`` ``[n, 1]``, and the radius graph of the pixels closer than ``radius``."""
    if image.dim() != 2:
        raise ValueError(f"digit_point_cloud: image must be [H, W], got {list(image.shape)}")
    rows, cols = torch.nonzero(image > 0, as_tuple=True)
    h, w = image.shape
    pos = torch.stack([cols - (w - 1) / 2, (h - 1) / 2 - rows], -1).to(torch.float32)
    x = (image[rows, cols].to(torch.float32) / 16.0)[:, None]
    return Data(x=x, pos=pos, edge_index=radius_graph(pos, radius, max_num_neighbors=None))


def mixed_symmetry_digits(seed: int = 0, radius: float = 2.3, path: str | os.PathLike | None = None,
                          progress: bool = False, limit: int | None = None) -> list[Data]:
    r"""The digits, each moved by a random element :math:`g = r^k m^j` of :math:`D_4` (a rotation by
    :math:`k \cdot 90°` after an optional mirror :math:`m: x \mapsto -x`, drawn uniformly with ``seed``),
    with two labels of different symmetry:

    - ``y`` (digit class, 10 values): invariant under all of :math:`D_4`;
    - ``hand`` (1 when mirrored): invariant under the rotations :math:`C_4`, flipped by every mirror.
      It is defined (``chiral = True``) on the digits in ``CHIRAL_DIGITS`` only.

    A :math:`D_4`-invariant model cannot see ``hand``; the true symmetry of the pair is :math:`C_4`.
    Every graph also stores ``element`` (the index of g in ``Dihedral(4).elements()``) and ``index``.
    Pixel centres are half-integers, so the moved positions are exact. ``limit``: the first digits only
    (same moves as in the full set).
    """
    images, labels = load_digits(path)
    elements = Dihedral(4).elements(dtype=torch.float32)
    improper = torch.linalg.det(elements) < 0
    choice = torch.randint(elements.shape[0], (images.shape[0],), generator=torch.Generator().manual_seed(seed))
    chiral = torch.isin(labels, torch.tensor(CHIRAL_DIGITS))
    out = []
    count = images.shape[0] if limit is None else min(int(limit), images.shape[0])
    for i in progress_bar(range(count), progress, desc="digits"):
        data = digit_point_cloud(images[i], radius)
        data.pos = torch.round(2 * data.pos @ elements[choice[i]].T) / 2
        data.y = labels[i].view(1)
        data.hand = improper[choice[i]].long().view(1)
        data.chiral = chiral[i].view(1)
        data.element = choice[i].view(1)
        data.index = torch.tensor([i])
        out.append(data)
    return out


def split_indices(num: int, test: int, valid: int, seed: int = 0) -> dict[str, Tensor]:
    """A seeded random split: the first ``test`` of a permutation for test, the next ``valid`` for validation."""
    if test < 1 or valid < 1 or test + valid >= num:
        raise ValueError(f"split_indices: need test >= 1, valid >= 1 and test + valid < {num}, got {test}, {valid}")
    perm = torch.randperm(num, generator=torch.Generator().manual_seed(seed))
    return {"test": perm[:test], "valid": perm[test:test + valid], "train": perm[test + valid:]}
