"""Point clouds to classify: point files, meshes (sampled on their surface) and arrays.

Files: ``.off`` meshes (as ModelNet), ``.npy`` arrays and text files
(``.xyz``, ``.txt``, ``.pts``, ``.csv``: one point a line, ``x y z`` first,
extra columns such as normals ignored). Unreadable inputs become a
:class:`~topoequi.inference.Failure` naming the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from topoequi.inference.inputs import flatten_inputs
from topoequi.inference.molecule import Failure


@dataclass(frozen=True)
class PointCloud:
    """Points ``pos`` (``[N, 3]``, float64) in any position and scale."""

    name: str
    pos: np.ndarray


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh, sampled on its surface when predicted (seeded)."""

    name: str
    vertices: torch.Tensor
    faces: torch.Tensor


def _read_points(path: Path) -> PointCloud:
    if path.suffix.lower() == ".npy":
        points = np.load(path, allow_pickle=False)
    else:
        points = np.loadtxt([line.replace(",", " ") for line in path.read_text().splitlines()], ndmin=2,
                            comments="#")
    if points.ndim != 2 or points.shape[1] < 3:
        raise ValueError(f"{path}: expected points of shape [N, 3] (or more columns), got {list(points.shape)}")
    return PointCloud(path.stem, np.asarray(points[:, :3], dtype=np.float64))


def _read_mesh(path: Path) -> Mesh:
    from topoequi.datasets.modelnet import read_off

    vertices, faces = read_off(path)
    return Mesh(path.stem, vertices.double(), faces)


POINT_READERS = {".off": _read_mesh, ".npy": _read_points, ".xyz": _read_points, ".txt": _read_points,
                 ".pts": _read_points, ".csv": _read_points}
"""File extension -> reader."""


def read_point_cloud(source: str | os.PathLike) -> PointCloud | Mesh | Failure:
    """The point cloud or mesh of one file; a :class:`Failure` when it cannot be read."""
    path = Path(source)
    reader = POINT_READERS.get(path.suffix.lower())
    if reader is None:
        return Failure(path.name, f"{path}: unknown point-cloud format; readable: {', '.join(POINT_READERS)}")
    if not path.is_file():
        return Failure(path.name, f"{path}: no such file")
    try:
        return reader(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        return Failure(path.name, str(exc) if str(path) in str(exc) else f"{path}: {exc}")


def _point_clouds(k: int, item) -> list:
    if isinstance(item, (str, os.PathLike)):
        return [read_point_cloud(item)]
    if isinstance(item, (np.ndarray, torch.Tensor)) and item.ndim == 2 and item.shape[1] == 3:
        points = item.detach().cpu().double().numpy() if isinstance(item, torch.Tensor) else item
        return [PointCloud(f"points_{k + 1}", np.asarray(points, dtype=np.float64))]
    return [Failure(f"input_{k + 1}", f"cannot classify a {type(item).__name__} of shape "
                                      f"{list(getattr(item, 'shape', []))}; expected Data, [N, 3] points, "
                                      "a mesh or a file path")]


def expand_point_clouds(inputs) -> list:
    """PyG ``Data`` / ``Batch`` with ``pos``, ``[N, 3]`` arrays or tensors, :class:`PointCloud`, :class:`Mesh`
    or file paths (alone or in a list) -> one entry per shape."""
    return flatten_inputs(inputs, (PointCloud, Mesh), _point_clouds,
                          single=lambda item: isinstance(item, (np.ndarray, torch.Tensor)) and item.ndim == 2)


def point_cloud_to_data(entry: PointCloud | Mesh, num_points: int, seed: int) -> Data:
    """Points as in training: at most ``num_points`` (a seeded subset, or seeded surface samples of a mesh),
    centred and scaled into the unit ball."""
    from topoequi.datasets.modelnet import normalize_scale, sample_surface

    generator = torch.Generator().manual_seed(seed)
    if isinstance(entry, Mesh):
        pos = sample_surface(entry.vertices, entry.faces, num_points, generator)
    else:
        pos = torch.from_numpy(entry.pos)
        if len(pos) > num_points:
            pos = pos[torch.randperm(len(pos), generator=generator)[:num_points]]
    if len(pos) < 2 or not torch.isfinite(pos).all():
        raise ValueError(f"a point cloud needs at least 2 finite points, got {len(pos)}")
    return Data(pos=normalize_scale(pos))
