"""The embedded density map: adenylate kinase (PDB 1AKE, chain A) on a 32^3 grid of 2.5 Angstrom voxels."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

EMBEDDED_MAP = Path(__file__).resolve().parents[2] / "datasets" / "cryoem_1ake.npz"


def load_density_map(path: str | os.PathLike | None = None) -> tuple[Tensor, float]:
    """``(volume [N, N, N] float32, voxel size in Angstrom)`` from a ``.npz`` with ``volume`` and
    ``voxel_size`` (default: the embedded map; recipe in ``datasets/make_cryoem_map.py``)."""
    path = Path(path) if path is not None else EMBEDDED_MAP
    if not path.is_file():
        raise FileNotFoundError(f"load_density_map: {path} does not exist")
    with np.load(path) as data:
        missing = [k for k in ("volume", "voxel_size") if k not in data.files]
        if missing:
            raise ValueError(f"load_density_map: {path} lacks the field(s) {', '.join(missing)}")
        volume, voxel = torch.from_numpy(data["volume"].astype(np.float32)), float(data["voxel_size"])
    if volume.dim() != 3 or len(set(volume.shape)) != 1:
        raise ValueError(f"load_density_map: {path} field volume must be cubic [N, N, N], got {list(volume.shape)}")
    return volume, voxel
