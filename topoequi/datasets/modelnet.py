r"""ModelNet10 / ModelNet40 from local ``.off`` meshes, as point clouds sampled on the surface.

The meshes are read from a folder in PyG's layout (the Princeton archive
unpacked), ``ROOT/raw/<category>/{train,test}/<category>_NNNN.off`` (or the
category folders directly under ``ROOT``); nothing is downloaded. Every mesh
becomes ``num_points`` points sampled uniformly on its surface (a triangle
drawn with probability proportional to its area, then a uniform point in it),
with a generator seeded by ``(seed, index)``, centred on their mean and scaled
into the unit ball. The result is cached under ``ROOT/processed``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset
from tqdm import tqdm

MODELNET10 = ("bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand", "sofa", "table",
              "toilet")
MODELNET40 = ("airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car", "chair", "cone",
              "cup", "curtain", "desk", "door", "dresser", "flower_pot", "glass_box", "guitar", "keyboard",
              "lamp", "laptop", "mantel", "monitor", "night_stand", "person", "piano", "plant", "radio",
              "range_hood", "sink", "sofa", "stairs", "stool", "table", "tent", "toilet", "tv_stand", "vase",
              "wardrobe", "xbox")
CATEGORIES = {"10": MODELNET10, "40": MODELNET40}


def read_off(path: str | os.PathLike) -> tuple[Tensor, Tensor]:
    """Vertices ``[V, 3]`` (float64) and triangles ``[F, 3]`` (long; polygons split into fans) of an
    ``.off`` file. Malformed files raise ``ValueError`` naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_off: no file '{path}'")
    with open(path) as f:
        lines = [(n, line.split("#", 1)[0].split()) for n, line in enumerate(f, 1)]
    lines = [(n, tokens) for n, tokens in lines if tokens]
    if not lines or not lines[0][1][0].upper().startswith("OFF"):
        raise ValueError(f"read_off: {path}, line {lines[0][0] if lines else 1}: expected the 'OFF' header")
    first_line, header = lines[0]
    rest = header[0][3:]  # ModelNet has files whose counts follow 'OFF' on the same line
    counts = ([rest] if rest else []) + header[1:]
    body = lines[1:]
    if not counts:
        if not body:
            raise ValueError(f"read_off: {path}: file ends after the header; expected 'vertices faces edges'")
        first_line, counts = body[0]
        body = body[1:]
    try:
        num_vertices, num_faces = int(counts[0]), int(counts[1])
    except (ValueError, IndexError):
        raise ValueError(f"read_off: {path}, line {first_line}: expected the counts 'vertices faces edges', "
                         f"got {' '.join(counts)!r}") from None
    if len(body) < num_vertices + num_faces:
        raise ValueError(f"read_off: {path}: ends at line {body[-1][0] if body else first_line}, "
                         f"but the header announces {num_vertices} vertices and {num_faces} faces")
    vertices = _parse_vertices(path, body[:num_vertices])
    faces = _parse_faces(path, body[num_vertices:num_vertices + num_faces], num_vertices)
    return vertices, faces


def _parse_vertices(path: Path, lines: list) -> Tensor:
    rows = []
    for n, tokens in lines:
        try:
            row = [float(t) for t in tokens[:3]]
        except ValueError:
            row = []
        if len(row) != 3 or not all(np.isfinite(row)):
            raise ValueError(f"read_off: {path}, line {n}: expected a vertex 'x y z', got {' '.join(tokens)!r}")
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64).view(-1, 3)


def _parse_faces(path: Path, lines: list, num_vertices: int) -> Tensor:
    triangles = []
    for n, tokens in lines:
        try:
            size = int(tokens[0])
            corners = [int(t) for t in tokens[1:1 + size]]
        except ValueError:
            corners, size = [], -1
        if size < 3 or len(corners) != size:
            raise ValueError(f"read_off: {path}, line {n}: expected a face 'k i_1 ... i_k' with k >= 3, "
                             f"got {' '.join(tokens)!r}")
        if min(corners) < 0 or max(corners) >= num_vertices:
            raise ValueError(f"read_off: {path}, line {n}: vertex index out of range 0..{num_vertices - 1}")
        triangles += [(corners[0], corners[i], corners[i + 1]) for i in range(1, size - 1)]
    return torch.tensor(triangles, dtype=torch.long).view(-1, 3)


def sample_surface(vertices: Tensor, faces: Tensor, num_points: int,
                   generator: torch.Generator | None = None) -> Tensor:
    r"""``num_points`` points uniform on the surface: triangle :math:`t` with probability
    :math:`A_t / \sum A`, then :math:`a + u (b - a) + v (c - a)` with :math:`(u, v)` uniform on the
    unit triangle (a square sample folded along its diagonal)."""
    if faces.numel() == 0:
        raise ValueError("sample_surface: the mesh has no faces")
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    areas = torch.linalg.cross(b - a, c - a).norm(dim=1)
    if not float(areas.sum()) > 0:
        raise ValueError("sample_surface: the mesh has zero surface area")
    chosen = torch.multinomial(areas, num_points, replacement=True, generator=generator)
    uv = torch.rand(num_points, 2, generator=generator, dtype=vertices.dtype)
    folded = uv.sum(1) > 1
    uv[folded] = 1 - uv[folded]
    a, b, c = a[chosen], b[chosen], c[chosen]
    return a + uv[:, :1] * (b - a) + uv[:, 1:] * (c - a)


def normalize_scale(pos: Tensor) -> Tensor:
    """Centre on the mean and scale into the unit ball (largest norm 1): commutes with rotations."""
    pos = pos - pos.mean(0, keepdim=True)
    return pos / pos.norm(dim=1).max().clamp_min(torch.finfo(pos.dtype).tiny)


class ModelNet(InMemoryDataset):
    r"""ModelNet10 / ModelNet40 (`"3D ShapeNets" <https://arxiv.org/abs/1406.5670>`_, Wu et al.,
    CVPR 2015) read offline from ``.off`` meshes, as point clouds on the surface.

    Args:
        root (str): folder holding ``raw/<category>/{train,test}/*.off`` (PyG's layout)
            or the category folders themselves.
        name (str, optional): ``"10"`` or ``"40"``. (default: ``"40"``)
        train (bool, optional): the training split, else the test split. (default: ``True``)
        num_points (int, optional): surface points per shape. (default: ``1024``)
        seed (int, optional): seed of the sampling (shape ``i`` uses ``(seed, i)``). (default: ``0``)
        progress (bool, optional): tqdm bar while processing. (default: ``True``)
        transform, pre_filter: as in PyG.

    Every graph has ``pos`` :math:`(N, 3)` (float32, unit ball) and ``y`` :math:`(1,)`.
    """

    def __init__(self, root: str | os.PathLike, name: str = "40", train: bool = True, num_points: int = 1024,
                 seed: int = 0, progress: bool = True, transform=None, pre_filter=None):
        if str(name) not in CATEGORIES:
            raise ValueError(f"ModelNet: name must be '10' or '40', got {name!r}")
        if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 1:
            raise ValueError(f"ModelNet: num_points must be a positive int, got {num_points!r}")
        self.name, self.train, self.num_points, self.seed = str(name), bool(train), num_points, int(seed)
        self.categories, self.progress = CATEGORIES[self.name], progress
        self._mesh_root = _mesh_root(Path(root), self.categories, self.name)
        super().__init__(str(root), transform, None, pre_filter, log=False)
        self.load(self.processed_paths[0])

    @property
    def raw_dir(self) -> str:
        return str(self._mesh_root)

    @property
    def raw_file_names(self) -> list[str]:
        return list(self.categories)

    @property
    def processed_file_names(self) -> list[str]:
        split = "train" if self.train else "test"
        return [f"modelnet{self.name}_{split}_{self.num_points}pts_seed{self.seed}.pt"]

    def download(self) -> None:  # never reached: the layout is checked before
        raise FileNotFoundError(f"ModelNet: no meshes in '{self.raw_dir}'")

    def process(self) -> None:
        split = "train" if self.train else "test"
        files = [(label, path) for label, category in enumerate(self.categories)
                 for path in sorted((self._mesh_root / category / split).glob("*.off"))]
        if not files:
            raise FileNotFoundError(f"ModelNet: no .off files in '{self._mesh_root}/<category>/{split}/'")
        data_list = []
        for index, (label, path) in enumerate(tqdm(files, desc=f"ModelNet{self.name} {split}",
                                                   disable=not self.progress)):
            vertices, faces = read_off(path)
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
            try:
                points = sample_surface(vertices, faces, self.num_points, generator)
            except ValueError as exc:
                raise ValueError(f"ModelNet: {path}: {exc}") from None
            data = Data(pos=normalize_scale(points).float(), y=torch.tensor([label]))
            if self.pre_filter is None or self.pre_filter(data):
                data_list.append(data)
        self.save(data_list, self.processed_paths[0])

    def __repr__(self) -> str:
        return (f"ModelNet{self.name}({len(self)}, split={'train' if self.train else 'test'}, "
                f"num_points={self.num_points})")


def _mesh_root(root: Path, categories: tuple[str, ...], name: str) -> Path:
    """The folder holding the category folders: ``root/raw`` or ``root`` itself."""
    for candidate in (root / "raw", root):
        present = [c for c in categories if (candidate / c).is_dir()]
        if present:
            missing = sorted(set(categories) - set(present))
            if missing:
                raise FileNotFoundError(f"ModelNet: '{candidate}' lacks the ModelNet{name} category folders "
                                        f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
            return candidate
    raise FileNotFoundError(f"ModelNet: expected '{root}/raw/<category>/train|test/*.off' for the {len(categories)} "
                            f"ModelNet{name} categories ({categories[0]}, {categories[1]}, ...); found none "
                            f"(this class does not download: unpack ModelNet{name}.zip there)")
