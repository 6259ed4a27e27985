r"""Densities made of isotropic Gaussians (atoms, blobs) and their exact projections.

A mixture :math:`V(r) = \sum_a w_a\, \mathcal{N}(r; \mu_a, \sigma^2 I)` (unit mass per atom) has
the analytic projection :math:`I_R(p) = \sum_a w_a\, \mathcal{N}_2\big(p; (R \mu_a)_{xy}, \sigma^2 I\big)`,
the real-space reference that :func:`~topoequi.cryoem.projector.project` is tested against.
Coordinates in voxels from the centre, in the layout of :mod:`topoequi.cryoem.projector`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor


def _grid(size: int, dtype, device) -> Tensor:
    return torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2


def gaussian_volume(centers: Tensor, weights: Tensor, sigma: float, size: int, chunk: int = 256) -> Tensor:
    """The mixture sampled at the voxels, ``[N, N, N]`` (voxel ``(k, i, j)`` at ``(j - c, c - i, k - c)``)."""
    t = _grid(size, centers.dtype, centers.device)
    norm = (2 * math.pi * sigma**2) ** -0.5
    volume = centers.new_zeros(size, size, size)
    for start in range(0, len(centers), chunk):
        mu, w = centers[start:start + chunk], weights[start:start + chunk]
        gx = norm * torch.exp(-(t[None] - mu[:, 0, None]) ** 2 / (2 * sigma**2))  # along j
        gy = norm * torch.exp(-(-t[None] - mu[:, 1, None]) ** 2 / (2 * sigma**2))  # along i: y = -t
        gz = norm * torch.exp(-(t[None] - mu[:, 2, None]) ** 2 / (2 * sigma**2))  # along k
        volume += torch.einsum("a,ak,ai,aj->kij", w, gz, gy, gx)
    return volume


def project_gaussians(centers: Tensor, weights: Tensor, sigma: float, rotations: Tensor, size: int) -> Tensor:
    r"""The exact projections ``[B, N, N]`` of the mixture at poses ``rotations`` ``[B, 3, 3]``
    (the mixture rotated, :math:`\mu \mapsto R \mu`, and integrated along :math:`z`)."""
    t = _grid(size, centers.dtype, centers.device)
    moved = torch.einsum("bij,aj->bai", rotations.to(centers.dtype), centers)
    norm = (2 * math.pi * sigma**2) ** -0.5
    gx = norm * torch.exp(-(t[None, None] - moved[..., 0, None]) ** 2 / (2 * sigma**2))  # [B, A, N] columns
    gy = norm * torch.exp(-(-t[None, None] - moved[..., 1, None]) ** 2 / (2 * sigma**2))  # rows
    return torch.einsum("a,bai,baj->bij", weights.to(centers.dtype), gy, gx)
