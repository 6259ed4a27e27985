"""PatchCamelyon (PCam): 96x96 lymph-node histology patches, read from the official HDF5 files."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset

from topoequi.typing import WITH_H5PY

SPLITS = ("train", "valid", "test")
PATCH = 96


def pcam_files(split: str) -> tuple[str, str]:
    """The image and label file names of a split, as distributed (after ``gunzip``)."""
    return (f"camelyonpatch_level_2_split_{split}_x.h5", f"camelyonpatch_level_2_split_{split}_y.h5")


def _dataset(path: Path, key: str, shape: tuple[int | None, ...], limit: int | None) -> np.ndarray:
    import h5py
    with h5py.File(path, "r") as f:
        if key not in f:
            raise ValueError(f"PCam: '{path}' must hold the dataset '{key}', found {sorted(f.keys())}")
        data = f[key]
        if data.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, data.shape)):
            expected = "[" + ", ".join("N" if s is None else str(s) for s in shape) + "]"
            raise ValueError(f"PCam: '{key}' in '{path}' must be {expected} uint8, got {list(data.shape)} "
                             f"{data.dtype}")
        return data[:limit]


def read_pcam(root: str | os.PathLike, split: str, limit: int | None = None) -> tuple[Tensor, Tensor]:
    """``images [N, 96, 96, 3]`` (uint8, RGB) and ``labels [N]`` (int64: 1 when the central 32x32
    pixels hold tumour tissue) of a split, from ``camelyonpatch_level_2_split_{split}_{x,y}.h5`` in
    ``root`` (datasets ``x`` ``[N, 96, 96, 3]`` and ``y`` ``[N, 1, 1, 1]``); the first ``limit`` only."""
    if not WITH_H5PY:
        raise ImportError("PCam: reading the HDF5 files needs h5py (pip install h5py)")
    if split not in SPLITS:
        raise ValueError(f"PCam: split must be one of {list(SPLITS)}, got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"PCam: limit must be a positive int or None, got {limit!r}")
    paths = [Path(root) / name for name in pcam_files(split)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"PCam: no {missing} in '{root}' (the official files, gunzipped; nothing is "
                                "downloaded)")
    x = _dataset(paths[0], "x", (None, PATCH, PATCH, 3), limit)
    y = _dataset(paths[1], "y", (None, 1, 1, 1), limit)
    if x.dtype != np.uint8 or len(x) != len(y):
        raise ValueError(f"PCam: {paths[0].name} must hold uint8 images, one per label of {paths[1].name}; got "
                         f"{len(x)} {x.dtype} images and {len(y)} labels")
    labels = torch.from_numpy(y.reshape(-1).astype(np.int64))
    if ((labels != 0) & (labels != 1)).any():
        raise ValueError(f"PCam: the labels of {paths[1].name} must be 0 or 1")
    return torch.from_numpy(np.ascontiguousarray(x)), labels


def center_crop(images: Tensor, size: int) -> Tensor:
    """The central ``size x size`` pixels of images ``[..., H, W]`` (``size <= H, W``)."""
    h, w = images.shape[-2:]
    if not 0 < size <= min(h, w):
        raise ValueError(f"center_crop: size must be in [1, {min(h, w)}], got {size}")
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top:top + size, left:left + size]


class PCam(InMemoryDataset):
    r"""PatchCamelyon (Veeling et al., `"Rotation Equivariant CNNs for Digital Pathology"
    <https://arxiv.org/abs/1806.03962>`_, 2018): 327,680 RGB patches of 96x96 pixels from H&E lymph-node
    sections (262,144 train, 32,768 valid, 32,768 test), labelled 1 when the central 32x32 pixels hold
    metastatic tissue. Read from the official HDF5 files in a local folder (:func:`read_pcam`); needs
    ``h5py``. Each sample is a ``Data`` with ``image`` ``[1, 3, S, S]`` (intensities in [0, 1],
    the central ``S x S`` pixels: ``size=65`` suits :class:`~topoequi.models.EquivariantMobileNetV2`)
    and ``y`` ``[1]``.

    Args:
        root (str): the folder holding the files.
        split (str): ``"train"``, ``"valid"`` or ``"test"``.
        limit (int, optional): read the first patches only. (default: ``None``)
        size (int, optional): central crop. (default: ``96``)
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", limit: int | None = None, size: int = PATCH):
        super().__init__(None)
        images, labels = read_pcam(root, split, limit)
        images = center_crop(images.permute(0, 3, 1, 2), size).float() / 255.0
        self.data, self.slices = self.collate([Data(image=images[i][None], y=labels[i].view(1))
                                               for i in range(images.shape[0])])
