r"""Norms of convolutions unrolled to dense matrices on a given image size, and of stencil lifts."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from topoequi.nn.conv.steerable_image_conv import stencil_offsets


def unrolled_conv_norms(weight: Tensor, input_shape: tuple[int, int, int], stride: int = 1, padding: int = 0,
                        dilation: int = 1, iterations: int = 50) -> tuple[float, float, int]:
    r"""Spectral norm, squared Frobenius norm and output size of ``conv2d(., weight)`` on inputs
    ``[C, H, W]``, as the dense :math:`(C' H' W') \times (C H W)` matrix it is.

    The spectral norm comes from ``iterations`` power steps on :math:`A^T A` (``conv2d`` and its
    adjoint ``conv_transpose2d``), a lower estimate converging from below; the Frobenius norm is
    exact: every tap :math:`(a, b)` of the filter counts once per output pixel where it lands inside
    the input.
    """
    weight = weight.detach().to(torch.float64)
    c, h, w = input_shape
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    ones = torch.ones(1, 1, h, w, dtype=weight.dtype, device=weight.device)
    taps = torch.eye(weight.shape[-2] * weight.shape[-1], dtype=weight.dtype, device=weight.device)
    taps = taps.view(-1, 1, weight.shape[-2], weight.shape[-1])
    counts = F.conv2d(ones, taps, **args).sum((0, 2, 3)).view(weight.shape[-2], weight.shape[-1])
    frobenius_sq = float((weight.square().sum((0, 1)) * counts).sum())
    x = torch.randn(1, c, h, w, dtype=weight.dtype, device=weight.device, generator=_generator(weight.device))
    y = F.conv2d(x, weight, **args)
    out_size = y[0].numel()
    sigma = 0.0
    for _ in range(iterations):
        x = x / x.norm().clamp_min(1e-300)
        y = F.conv2d(x, weight, **args)
        sigma = float(y.norm())
        x = F.conv_transpose2d(y, weight, output_padding=_output_padding(x, y, weight, args), **args)
    return sigma, frobenius_sq, out_size


def lift_norm_bound(basis: Tensor, grid: int = 256) -> float:
    r"""An upper bound on the spectral norm of the stencil lift :math:`P f(p) = \sum_v h(v) \otimes f(p + v)`
    for any image size, padding and stride. :math:`P` is a convolution, so with
    :math:`G_{v v'} = \langle h(v), h(v') \rangle`,

    .. math::
        \|P\|_2^2 \le \sup_\xi g(\xi), \quad g(\xi) = \sum_{v, v'} G_{v v'} \cos(\xi \cdot (v - v')),

    evaluated on a ``grid x grid`` grid of frequencies plus the largest change of :math:`g` within a
    grid cell, :math:`\frac{\pi \sqrt 2}{n} \sum_{v, v'} |G_{v v'}|\, \|v - v'\|_2`.

    Args:
        basis (Tensor): ``[k * k, dim h]``, the kernel basis sampled on the stencil (row-major).
        grid (int, optional): frequencies per axis. (default: ``256``)
    """
    basis = basis.to(torch.float64)
    gram = basis @ basis.T
    k = round(basis.shape[0] ** 0.5)
    offsets = stencil_offsets(k).to(basis.device)
    diff = offsets[:, None] - offsets[None]  # [k*k, k*k, 2]
    xi = torch.arange(grid, dtype=torch.float64, device=basis.device) * (2 * math.pi / grid)
    ax, ay = xi[:, None] * diff[..., 0].flatten(), xi[:, None] * diff[..., 1].flatten()  # [n, (k*k)^2]
    w = gram.flatten()
    g = (ax.cos() * w) @ ay.cos().T - (ax.sin() * w) @ ay.sin().T  # g at [xi_1, xi_2]
    slack = math.pi * math.sqrt(2) / grid * float((gram.abs() * diff.norm(dim=-1)).sum())
    return math.sqrt(float(g.max()) + slack)


def _generator(device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(0)


def _output_padding(x: Tensor, y: Tensor, weight: Tensor, args: dict) -> tuple[int, int]:
    """The ``output_padding`` that makes ``conv_transpose2d(y)`` the shape of ``x`` (the adjoint)."""
    pads = []
    for dim, k in ((2, weight.shape[-2]), (3, weight.shape[-1])):
        full = (y.shape[dim] - 1) * args["stride"] - 2 * args["padding"] + args["dilation"] * (k - 1) + 1
        pads.append(x.shape[dim] - full)
    return tuple(pads)
