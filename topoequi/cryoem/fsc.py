r"""Fourier shell correlation between two volumes and the resolutions where it crosses 0.5 and 0.143.

.. math::
    \mathrm{FSC}(r) = \frac{\mathrm{Re} \sum_{|k| \in [r, r+1)} \hat V_1(k) \overline{\hat V_2(k)}}
    {\sqrt{\sum |\hat V_1(k)|^2 \sum |\hat V_2(k)|^2}},

shells of one voxel of frequency, :math:`r = 0, \dots, N/2 - 1`; the shell of radius :math:`r`
is the resolution :math:`N s / r` Angstrom (voxel size :math:`s`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from topoequi.cryoem.projector import check_volume


def fourier_shell_correlation(a: Tensor, b: Tensor) -> Tensor:
    """The FSC ``[N // 2]`` of two ``[N, N, N]`` volumes (float64)."""
    n = check_volume(a, "fourier_shell_correlation: a")
    if b.shape != a.shape:
        raise ValueError(f"fourier_shell_correlation: b must have the shape of a {list(a.shape)}, "
                         f"got {list(b.shape)}")
    fa, fb = torch.fft.fftn(a.double()), torch.fft.fftn(b.double())
    k = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64, device=a.device)
    radius = torch.sqrt(k[:, None, None] ** 2 + k[:, None] ** 2 + k**2).floor().long().reshape(-1)
    keep = radius < n // 2
    radius = radius[keep]

    def shells(values: Tensor) -> Tensor:
        return torch.zeros(n // 2, dtype=torch.float64, device=a.device).index_add_(0, radius, values[keep])

    cross = shells((fa * fb.conj()).real.reshape(-1))
    power = shells(fa.abs().reshape(-1) ** 2) * shells(fb.abs().reshape(-1) ** 2)
    return cross / power.sqrt().clamp_min(1e-300)


def fsc_resolution(fsc: Tensor, voxel_size: float, threshold: float) -> float:
    """The resolution (Angstrom) of the first shell whose FSC falls below ``threshold``, interpolated
    linearly between shells; the Nyquist resolution ``2 voxel_size`` when it never does, the box size
    ``N voxel_size`` when it starts below."""
    n = 2 * len(fsc)
    below = (fsc < threshold).nonzero()
    if len(below) == 0:
        return 2.0 * voxel_size
    r = int(below[0])
    if r == 0:
        return n * voxel_size
    f0, f1 = float(fsc[r - 1]), float(fsc[r])
    shell = max(1.0, r - 1 + (f0 - threshold) / (f0 - f1))
    return n * voxel_size / shell


def fsc_resolutions(a: Tensor, b: Tensor, voxel_size: float) -> dict[str, float]:
    """``{"fsc_0.5": ..., "fsc_0.143": ...}`` resolutions (Angstrom) of ``a`` against ``b``."""
    fsc = fourier_shell_correlation(a, b)
    return {f"fsc_{t}": fsc_resolution(fsc, voxel_size, t) for t in (0.5, 0.143)}


def resample_volume(volume: Tensor, matrix: Tensor) -> Tensor:
    r"""The volume :math:`W(v) = V(M v)` ``[N, N, N]`` for a linear map ``matrix`` :math:`M` ``[3, 3]``
    (trilinear, zero outside; layout of :mod:`topoequi.cryoem.projector`)."""
    n = check_volume(volume)
    c = (n - 1) / 2
    t = torch.arange(n, dtype=volume.dtype, device=volume.device) - c
    z, y, x = torch.meshgrid(t, -t, t, indexing="ij")  # voxel (k, i, j) at (j - c, c - i, k - c)
    u = torch.stack([x, y, z], -1) @ matrix.to(volume).T
    grid = torch.stack([u[..., 0], -u[..., 1], u[..., 2]], -1) / c  # grid_sample's (W, H, D) = (j, i, k)
    return F.grid_sample(volume[None, None], grid[None], mode="bilinear", padding_mode="zeros",
                         align_corners=True)[0, 0]


def align_volume(learned: Tensor, alignment) -> Tensor:
    r"""A learned volume carried into the frame of the true one by the pose
    :class:`~topoequi.cryoem.rotations.Alignment`: :math:`\hat V(u) = V(M u)` gives :math:`V(v) = \hat V(M^\top v)`."""
    return resample_volume(learned, alignment.matrix.T)
