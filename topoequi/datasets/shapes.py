r"""A seeded, procedural set of 3D shapes in twelve classes, for offline point-cloud classification.

Every shape is a triangle mesh built from random class parameters (radii,
heights, proportions, turns), sampled on its surface (area-weighted, as
:class:`~topoequi.datasets.ModelNet` does), then varied: an anisotropic
stretch of up to 10% per axis, a twist about :math:`z` of up to 0.4 rad per
unit height, a missing cap (the points beyond a random plane, up to 15%:
partial scans), Gaussian noise of 0.01, and finally centred and scaled into
the unit ball. Shapes stand upright (:math:`z` up), as ModelNet's do, so that
rotation protocols mean the same thing on both.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.data import Data

from topoequi.datasets.modelnet import normalize_scale, sample_surface

Mesh = tuple[Tensor, Tensor]
SPLITS = ("train", "valid", "test")


def grid_mesh(surface: Callable[[Tensor, Tensor], Tensor], nu: int = 24, nv: int = 12) -> Mesh:
    """Triangles of the parametric surface ``surface(u, v) -> [..., 3]`` on ``[0, 1]^2`` (``nu x nv`` cells)."""
    u, v = torch.meshgrid(torch.linspace(0, 1, nu + 1, dtype=torch.float64),
                          torch.linspace(0, 1, nv + 1, dtype=torch.float64), indexing="ij")
    vertices = surface(u, v).reshape(-1, 3)
    index = torch.arange((nu + 1) * (nv + 1)).view(nu + 1, nv + 1)
    a, b, c, d = index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]
    faces = torch.cat([torch.stack([a, b, c], -1).view(-1, 3), torch.stack([a, c, d], -1).view(-1, 3)])
    return vertices, faces


def combine(*meshes: Mesh) -> Mesh:
    """One mesh of several (faces re-indexed)."""
    offsets = torch.tensor([0] + [v.shape[0] for v, _ in meshes]).cumsum(0)
    return (torch.cat([v for v, _ in meshes]), torch.cat([f + o for (_, f), o in zip(meshes, offsets)]))


def moved(mesh: Mesh, scale=(1.0, 1.0, 1.0), shift=(0.0, 0.0, 0.0)) -> Mesh:
    vertices, faces = mesh
    return vertices * torch.tensor(scale, dtype=vertices.dtype) + torch.tensor(shift, dtype=vertices.dtype), faces


def ellipsoid(a: float, b: float, c: float) -> Mesh:
    def surface(u, v):
        phi, theta = 2 * math.pi * u, math.pi * v
        return torch.stack([a * theta.sin() * phi.cos(), b * theta.sin() * phi.sin(), c * theta.cos()], -1)
    return grid_mesh(surface)


def cylinder(radius: float, height: float, top: float | None = None, caps: bool = True) -> Mesh:
    """A (truncated) cone between ``z = -height / 2`` (``radius``) and ``+height / 2`` (``top``)."""
    top = radius if top is None else top

    def side(u, v):
        phi, r = 2 * math.pi * u, radius + (top - radius) * v
        return torch.stack([r * phi.cos(), r * phi.sin(), height * (v - 0.5)], -1)

    def disk(r, z):
        return lambda u, v: torch.stack([r * v * (2 * math.pi * u).cos(), r * v * (2 * math.pi * u).sin(),
                                         torch.full_like(u, z)], -1)
    parts = [grid_mesh(side)]
    if caps:
        parts += [grid_mesh(disk(radius, -height / 2), nv=4), grid_mesh(disk(top, height / 2), nv=4)]
    return combine(*parts)


def box(x: float, y: float, z: float) -> Mesh:
    corners = torch.tensor([[i, j, k] for i in (-.5, .5) for j in (-.5, .5) for k in (-.5, .5)],
                           dtype=torch.float64) * torch.tensor([x, y, z], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                          [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return corners, faces


def tube(curve: Callable[[Tensor], Tensor], radius: float, nu: int = 96) -> Mesh:
    """A tube of ``radius`` around the space curve ``curve(t)``, ``t`` in [0, 1]."""
    def surface(u, v):
        centre = curve(u)
        tangent = curve(u + 1e-4) - curve(u - 1e-4)
        tangent = tangent / tangent.norm(dim=-1, keepdim=True)
        helper = torch.tensor([0.0, 0.0, 1.0], dtype=u.dtype).expand_as(tangent)
        helper = torch.where((tangent[..., 2:].abs() > 0.9), torch.tensor([1.0, 0.0, 0.0], dtype=u.dtype), helper)
        n1 = torch.linalg.cross(tangent, helper)
        n1 = n1 / n1.norm(dim=-1, keepdim=True)
        n2 = torch.linalg.cross(tangent, n1)
        angle = 2 * math.pi * v[..., None]
        return centre + radius * (angle.cos() * n1 + angle.sin() * n2)
    return grid_mesh(surface, nu=nu, nv=8)


def _torus(rng) -> Mesh:
    r = rng(0.2, 0.4)
    return tube(lambda t: torch.stack([(2 * math.pi * t).cos(), (2 * math.pi * t).sin(), 0 * t], -1), r)


def _helix(rng) -> Mesh:
    turns, height, r = rng(2.0, 3.0), rng(1.5, 2.5), rng(0.08, 0.12)
    return tube(lambda t: torch.stack([(2 * math.pi * turns * t).cos(), (2 * math.pi * turns * t).sin(),
                                       height * (t - 0.5)], -1), r, nu=160)


def _pyramid(rng) -> Mesh:
    s, h = rng(1.0, 1.4), rng(0.8, 1.3)
    vertices = torch.tensor([[-s / 2, -s / 2, 0], [s / 2, -s / 2, 0], [s / 2, s / 2, 0], [-s / 2, s / 2, 0],
                             [0, 0, h]], dtype=torch.float64)
    faces = torch.tensor([[0, 2, 1], [0, 3, 2], [0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]])
    return vertices, faces


def _table(rng) -> Mesh:
    w, d, h, leg = rng(1.2, 1.8), rng(0.7, 1.1), rng(0.6, 1.0), rng(0.06, 0.1)
    legs = [moved(box(leg, leg, h), shift=(sx * (w / 2 - leg), sy * (d / 2 - leg), h / 2))
            for sx in (-1, 1) for sy in (-1, 1)]
    return combine(moved(box(w, d, 0.06), shift=(0, 0, h)), *legs)


def _dumbbell(rng) -> Mesh:
    r, length, bar = rng(0.3, 0.45), rng(1.2, 1.8), rng(0.06, 0.1)
    return combine(moved(ellipsoid(r, r, r), shift=(0, 0, -length / 2)),
                   moved(ellipsoid(r, r, r), shift=(0, 0, length / 2)), cylinder(bar, length))


def _cross(rng) -> Mesh:
    r, length = rng(0.08, 0.14), rng(1.6, 2.0)
    arm = cylinder(r, length)
    return combine(arm, (arm[0][:, [2, 0, 1]], arm[1]), (arm[0][:, [1, 2, 0]], arm[1]))


def _mug(rng) -> Mesh:
    r, h, handle = rng(0.4, 0.55), rng(0.8, 1.2), rng(0.2, 0.3)

    def arc(t):
        angle = math.pi * (t - 0.5)
        return torch.stack([r + handle * angle.cos(), 0 * t, handle * 1.2 * angle.sin()], -1)
    bottom = grid_mesh(lambda u, v: torch.stack([r * v * (2 * math.pi * u).cos(), r * v * (2 * math.pi * u).sin(),
                                                 torch.full_like(u, -h / 2)], -1), nv=4)
    return combine(cylinder(r, h, caps=False), bottom, tube(arc, 0.05, nu=32))


SHAPE_CLASSES: dict[str, Callable] = {
    "sphere": lambda rng: ellipsoid(1.0, 1.0, 1.0),
    "ellipsoid": lambda rng: ellipsoid(1.0, rng(0.45, 0.7), rng(0.2, 0.35)),
    "box": lambda rng: box(rng(1.0, 1.5), rng(0.6, 0.9), rng(0.3, 0.5)),
    "cylinder": lambda rng: cylinder(rng(0.3, 0.5), rng(1.4, 2.0)),
    "cone": lambda rng: cylinder(rng(0.5, 0.7), rng(1.0, 1.6), top=0.0),
    "torus": _torus,
    "pyramid": _pyramid,
    "helix": _helix,
    "table": _table,
    "dumbbell": _dumbbell,
    "cross": _cross,
    "mug": _mug,
}
"""Class name -> ``builder(rng) -> (vertices, faces)``, ``rng(lo, hi)`` a uniform draw."""


def shape_point_cloud(label: int, num_points: int, generator: torch.Generator) -> Tensor:
    """One random shape of class ``label`` as ``[num_points, 3]`` float64 points (see the module doc)."""
    def rng(lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=generator, dtype=torch.float64))

    vertices, faces = list(SHAPE_CLASSES.values())[label](rng)
    points = sample_surface(vertices, faces, 2 * num_points, generator)
    points = normalize_scale(points) * torch.tensor([rng(0.9, 1.1) for _ in range(3)], dtype=torch.float64)
    angle = rng(-0.4, 0.4) * points[:, 2]
    cos, sin = angle.cos(), angle.sin()
    points = torch.stack([cos * points[:, 0] - sin * points[:, 1], sin * points[:, 0] + cos * points[:, 1],
                          points[:, 2]], -1)
    direction = torch.randn(3, generator=generator, dtype=torch.float64)
    height = points @ (direction / direction.norm())
    kept = points[height <= torch.quantile(height, 1.0 - rng(0.0, 0.15))]
    kept = kept[torch.randperm(kept.shape[0], generator=generator)[:num_points]]
    kept = kept + 0.01 * torch.randn(kept.shape, generator=generator, dtype=torch.float64)
    return normalize_scale(kept)


def procedural_shapes(split: str = "train", per_class: int = 50, num_points: int = 256, seed: int = 0) -> list[Data]:
    """``per_class`` shapes of each class in :data:`SHAPE_CLASSES` (``pos`` ``[num_points, 3]`` float32,
    ``y`` ``[1]``), class by class. The three splits draw from separate seeded streams."""
    if split not in SPLITS:
        raise ValueError(f"procedural_shapes: split must be one of {SPLITS}, got {split!r}")
    for name, value in (("per_class", per_class), ("num_points", num_points)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"procedural_shapes: {name} must be a positive int, got {value!r}")
    generator = torch.Generator().manual_seed(int(seed) * len(SPLITS) + SPLITS.index(split))
    return [Data(pos=shape_point_cloud(label, num_points, generator).float(), y=torch.tensor([label]))
            for label in range(len(SHAPE_CLASSES)) for _ in range(per_class)]
