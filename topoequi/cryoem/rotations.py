r"""Rotations for poses: matrices, RELION's Euler angles, the 6D parametrisation, geodesic distance and
the global alignment of predicted to true poses.

A pose :math:`R \in SO(3)` projects a volume :math:`V` to the image
:math:`I(x, y) = \int V\big(R^\top (x, y, z)\big)\, dz` (the viewing axis is :math:`z`).
A reconstruction is determined up to a global rotation :math:`A` (the learned volume is
:math:`V(A u)` and every pose becomes :math:`R A`) and up to handedness: projections cannot tell
:math:`V` from its mirror image, whose poses are :math:`J R M` with :math:`J = \mathrm{diag}(1, 1, -1)`
and :math:`M` improper. :func:`align_rotations` finds the better of the two.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import Tensor

Z_FLIP = (1.0, 1.0, -1.0)
"""The diagonal of :math:`J`: projection along :math:`z` cannot see :math:`z \\mapsto -z`."""


def random_rotations(n: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                     device: torch.device | str | None = None) -> Tensor:
    """``n`` Haar-uniform rotations ``[n, 3, 3]`` (normalised Gaussian quaternions)."""
    q = torch.randn(n, 4, generator=generator, dtype=dtype)
    return quaternion_to_matrix(q / q.norm(dim=-1, keepdim=True)).to(device)


def cube_rotations(dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> Tensor:
    """The 24 rotations of the cube ``[24, 3, 3]``: the signed permutation matrices of determinant 1."""
    eye = torch.eye(3, dtype=dtype, device=device)
    signs = torch.tensor(list(itertools.product((1.0, -1.0), repeat=3)), dtype=dtype, device=device)
    mats = torch.stack([eye[list(p)] * s[:, None] for p in itertools.permutations(range(3)) for s in signs])
    return mats[torch.linalg.det(mats) > 0]


def quaternion_to_matrix(q: Tensor) -> Tensor:
    """Unit quaternions ``[..., 4]`` (w, x, y, z) to rotation matrices ``[..., 3, 3]``."""
    w, x, y, z = q.unbind(-1)
    rows = [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]
    return torch.stack(rows, -1).unflatten(-1, (3, 3))


def axis_rotation(angle: Tensor, axis: int) -> Tensor:
    """Right-handed rotations ``[..., 3, 3]`` by ``angle`` (radians) about axis ``axis`` (0: x, 1: y, 2: z)."""
    i, j = (axis + 1) % 3, (axis + 2) % 3
    m = torch.zeros(*angle.shape, 3, 3, dtype=angle.dtype, device=angle.device)
    m[..., axis, axis] = 1.0
    m[..., i, i], m[..., j, j] = torch.cos(angle), torch.cos(angle)
    m[..., i, j], m[..., j, i] = -torch.sin(angle), torch.sin(angle)
    return m


def euler_to_matrix(rot: Tensor, tilt: Tensor, psi: Tensor) -> Tensor:
    r"""RELION's ZYZ Euler angles (degrees) to :math:`R = R_z(\psi) R_y(\theta) R_z(\phi)` ``[..., 3, 3]``."""
    rot, tilt, psi = (torch.deg2rad(torch.as_tensor(a, dtype=torch.float64)) for a in (rot, tilt, psi))
    return axis_rotation(psi, 2) @ axis_rotation(tilt, 1) @ axis_rotation(rot, 2)


def matrix_to_euler(matrix: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The inverse of :func:`euler_to_matrix`: ``(rot, tilt, psi)`` in degrees, tilt in [0, 180]."""
    m = matrix.to(torch.float64)
    tilt = torch.atan2(torch.hypot(m[..., 2, 0], m[..., 2, 1]), m[..., 2, 2])
    rot = torch.atan2(m[..., 2, 1], -m[..., 2, 0])
    psi = torch.atan2(m[..., 1, 2], m[..., 0, 2])
    gimbal = torch.hypot(m[..., 2, 0], m[..., 2, 1]) < 1e-9  # tilt 0 or 180: all in rot
    sign = torch.sign(m[..., 2, 2])
    rot = torch.where(gimbal, torch.atan2(-sign * m[..., 0, 1], sign * m[..., 0, 0]), rot)
    psi = torch.where(gimbal, torch.zeros_like(psi), psi)
    return torch.rad2deg(rot), torch.rad2deg(tilt), torch.rad2deg(psi)


def gram_schmidt(six: Tensor) -> Tensor:
    r"""The 6D parametrisation (Zhou et al., CVPR 2019): two vectors ``[..., 3, 2]`` (columns
    :math:`a_1, a_2`) to the rotation with columns :math:`b_1 = a_1 / |a_1|`,
    :math:`b_2 \propto a_2 - (b_1 \cdot a_2) b_1`, :math:`b_3 = b_1 \times b_2`.
    Equivariant: :math:`\mathrm{GS}(Q a) = Q\, \mathrm{GS}(a)` for every :math:`Q \in SO(3)`."""
    a1, a2 = six[..., 0], six[..., 1]
    b1 = a1 / a1.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = b2 / b2.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.stack([b1, b2, torch.linalg.cross(b1, b2)], -1)


def geodesic_distance(a: Tensor, b: Tensor) -> Tensor:
    r"""The angle (degrees) of :math:`a^\top b`: :math:`\arccos((\mathrm{tr}(a^\top b) - 1) / 2)`, ``[...]``."""
    trace = (a * b).sum((-2, -1))
    return torch.rad2deg(torch.acos(((trace - 1) / 2).clamp(-1.0, 1.0)))



def view_concentration(rotations: Tensor) -> float:
    r"""How much the viewing directions :math:`v = R^\top e_z` of poses ``[n, 3, 3]`` gather on one axis:
    the largest eigenvalue of :math:`\frac1n \sum v v^\top`, :math:`1/3` for uniform poses, 1 when every
    pose looks along :math:`\pm` one axis (the poses differ by in-plane turns only: the volume can then
    only be the extrusion of one 2D image). Unchanged by a global alignment and by in-plane turns."""
    if rotations.dim() != 3 or rotations.shape[-2:] != (3, 3):
        raise ValueError(f"view_concentration: rotations must be [n, 3, 3], got {list(rotations.shape)}")
    view = rotations.to(torch.float64)[:, 2, :]
    return float(torch.linalg.eigvalsh(view.T @ view / len(view))[-1])

def nearest_orthogonal(m: Tensor, det: float = 1.0) -> Tensor:
    """The orthogonal matrix of determinant ``det`` (+1 or -1) closest to ``m`` in Frobenius norm."""
    u, _, vh = torch.linalg.svd(m)
    fix = torch.ones(3, dtype=m.dtype, device=m.device)
    fix[2] = det * torch.sign(torch.linalg.det(u @ vh))
    return u @ torch.diag(fix) @ vh


@dataclass
class Alignment:
    """The global map that best carries true poses onto predicted ones.

    ``errors`` are the per-pose geodesic distances (degrees) after alignment; ``matrix`` is
    :math:`A` (proper, ``mirrored=False``: :math:`\\hat R = R A`) or :math:`M` (improper,
    ``mirrored=True``: :math:`\\hat R = J R M`).
    """

    errors: Tensor
    matrix: Tensor
    mirrored: bool

    @property
    def median(self) -> float:
        return float(self.errors.median())

    def apply(self, true: Tensor) -> Tensor:
        """The true poses carried into the predicted frame."""
        flip = torch.tensor(Z_FLIP, dtype=true.dtype, device=true.device)
        return (flip[:, None] * true if self.mirrored else true) @ self.matrix.to(true)


def align_rotations(predicted: Tensor, true: Tensor, refinements: int = 3) -> Alignment:
    """Align ``true`` ``[n, 3, 3]`` poses to ``predicted`` ones by one global rotation, or by one
    improper map and the z-flip (the mirrored volume), whichever fits better (least squares on
    the matrices, then refitted ``refinements`` times on the better half, robust to outliers)."""
    if predicted.shape != true.shape or predicted.shape[-2:] != (3, 3):
        raise ValueError(f"align_rotations: predicted and true must both be [n, 3, 3], got "
                         f"{list(predicted.shape)} and {list(true.shape)}")
    predicted, true = predicted.to(torch.float64), true.to(torch.float64)
    flip = torch.tensor(Z_FLIP, dtype=true.dtype, device=true.device)
    best = None
    for mirrored in (False, True):
        source = flip[:, None] * true if mirrored else true
        keep = torch.ones(len(true), dtype=torch.bool, device=true.device)
        for _ in range(refinements + 1):
            matrix = nearest_orthogonal((source[keep].transpose(-1, -2) @ predicted[keep]).sum(0),
                                        -1.0 if mirrored else 1.0)
            errors = geodesic_distance(source @ matrix, predicted)
            keep = errors <= errors.median()
        candidate = Alignment(errors, matrix, mirrored)
        if best is None or candidate.median < best.median:
            best = candidate
    return best

