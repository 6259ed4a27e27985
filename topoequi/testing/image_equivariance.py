"""Equivariance tests for layers on images (fields on a square pixel grid).

A planar group element ``g`` acts on a field ``f: [B, C, H, W]`` of type
``rho`` by moving the pixels and turning the fibers,
``(g . f)(p) = rho(g) f(g^-1 p)``, with pixel ``(row, col)`` at
``p = (col - c, c - row)``, ``c = (W - 1) / 2`` (``x`` along the columns,
``y`` up the rows). The symmetries of the grid (rotations by multiples of 90
degrees and the reflections among them) move pixels onto pixels and are
applied exactly; other elements interpolate (``grid_sample``).
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from topoequi.symmetry import Group, Rep
from topoequi.symmetry.group import rotation_2d


def grid_elements(group: Group) -> Tensor:
    """The elements of ``group`` that map the pixel grid onto itself, ``[n, 2, 2]`` float64
    (those of D4: rotations by multiples of 90 degrees, with the flips ``y -> -y`` composed)."""
    quarter = rotation_2d(torch.arange(4, dtype=torch.float64) * (torch.pi / 2)).round()
    flip = torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))
    d4 = torch.cat([quarter, quarter @ flip])
    return d4[group.contains(d4)]


def transform_image(x: Tensor, g: Tensor, rep: Rep | None = None, mode: str = "bilinear") -> Tensor:
    """``g . x`` for images ``[B, C, H, W]`` (``H = W``) and one element ``g [2, 2]``; the fibers are
    turned by ``rep`` when given (``C = rep.dim``). Exact for grid symmetries, else interpolated
    with ``mode`` and zeros outside the image."""
    if x.dim() != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"transform_image: x must be [B, C, H, W] with H = W, got {list(x.shape)}")
    g = g.to(torch.float64).cpu()
    n = x.shape[-1]
    c = (n - 1) / 2
    if bool(((g - g.round()).abs() < 1e-12).all()):  # a grid symmetry: a permutation of the pixels
        idx = torch.arange(n, dtype=torch.float64)
        rows, cols = torch.meshgrid(idx, idx, indexing="ij")
        p = torch.stack([cols - c, c - rows], -1)  # output pixel positions
        q = p @ g.round()  # g^-1 p = g^T p, as rows
        src_row, src_col = (c - q[..., 1]).round().long(), (q[..., 0] + c).round().long()
        moved = x[..., src_row.to(x.device), src_col.to(x.device)]
    else:
        lin = torch.linspace(-1.0, 1.0, n, dtype=torch.float64)
        rows, cols = torch.meshgrid(lin, lin, indexing="ij")
        q = torch.stack([cols, -rows], -1) @ g  # normalized g^-1 p
        grid = torch.stack([q[..., 0], -q[..., 1]], -1).to(x)
        moved = F.grid_sample(x, grid.expand(x.shape[0], n, n, 2), mode=mode, align_corners=True)
    if rep is None:
        return moved
    if rep.dim != x.shape[1]:
        raise ValueError(f"transform_image: rep {rep} has dimension {rep.dim}, x has {x.shape[1]} channels")
    return torch.einsum("oc,bchw->bohw", rep.matrices(g[None])[0].to(x), moved)


def image_equivariance_error(func: Callable[[Tensor], Tensor], x: Tensor, in_rep: Rep, out_rep: Rep,
                             elements: Tensor | None = None, dtype: torch.dtype = torch.float64,
                             crop: int = 0) -> float:
    """``max |f(g . x) - g . f(x)|`` over ``elements`` (default: :func:`grid_elements` of the group).

    A ``torch.nn.Module`` is deep-copied to ``dtype`` (float64 by default); ``crop`` ignores that
    many border pixels of the output (for interpolated rotations, whose corners leave the image).
    """
    if isinstance(func, torch.nn.Module):
        func = copy.deepcopy(func).to(dtype)
    x = x.to(dtype)
    if elements is None:
        elements = grid_elements(in_rep.group)
    reference = func(x)
    error = 0.0
    for g in elements:
        diff = func(transform_image(x, g, in_rep)) - transform_image(reference, g, out_rep)
        if crop:
            diff = diff[..., crop:-crop, crop:-crop]
        error = max(error, diff.abs().max().item() if diff.numel() else 0.0)
    return error


def assert_image_equivariant(func: Callable[[Tensor], Tensor], x: Tensor, in_rep: Rep, out_rep: Rep,
                             atol: float = 1e-12, **kwargs) -> float:
    """Assert :func:`image_equivariance_error` ``<= atol`` (default 1e-12, float64); return the error."""
    error = image_equivariance_error(func, x, in_rep, out_rep, **kwargs)
    if not error <= atol:
        raise AssertionError(f"not equivariant on the image grid (tolerance {atol:.1e}): error {error:.3e}")
    return error
