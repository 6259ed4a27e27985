"""Fourier shell correlation (values, resolutions at 0.5 and 0.143) and volumes resampled at a rotation."""
import pytest
import torch

from topoequi.cryoem.fsc import (
    fourier_shell_correlation,
    fsc_resolution,
    fsc_resolutions,
    resample_volume,
)
from topoequi.cryoem.rotations import random_rotations


def test_fsc_values_and_resolutions():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(16, 16, 16, generator=gen, dtype=torch.float64)
    fsc = fourier_shell_correlation(a, a)
    assert torch.allclose(fsc, torch.ones_like(fsc))
    assert torch.allclose(fourier_shell_correlation(a, -a), -torch.ones_like(fsc))
    assert fsc_resolutions(a, a, 2.0) == {"fsc_0.5": 4.0, "fsc_0.143": 4.0}  # Nyquist
    # an FSC of 1, 1, 0.5 at shells 0..2 then 0: crosses 0.5 at shell 2, 0.143 at 2 + 0.357/0.5
    curve = torch.tensor([1.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    assert fsc_resolution(curve, 1.0, 0.143) == pytest.approx(16 / (2 + 0.357 / 0.5))
    noisy = a + torch.randn(16, 16, 16, generator=gen, dtype=torch.float64)
    assert 0.4 < float(fourier_shell_correlation(a, noisy).mean()) < 0.9  # SNR 1 per shell: FSC ~ 1/sqrt(2)
    with pytest.raises(ValueError, match="fourier_shell_correlation: b must have the shape"):
        fourier_shell_correlation(a, a[:8, :8, :8])


def test_resample_volume_rotates_back():
    gen = torch.Generator().manual_seed(1)
    t = torch.arange(24, dtype=torch.float64) - 11.5
    z, y, x = torch.meshgrid(t, -t, t, indexing="ij")  # the layout: voxel (k, i, j) at (j - c, c - i, k - c)

    def blob(center):
        return torch.exp(-((x - center[0]) ** 2 + (y - center[1]) ** 2 + (z - center[2]) ** 2) / 18)

    center = torch.tensor([3.0, -2.0, 1.0], dtype=torch.float64)
    r = random_rotations(1, gen)[0]
    moved = resample_volume(blob(center), r)  # W(v) = V(r v): the blob moves to r^T c
    expected = blob(r.T @ center)
    assert float((moved - expected).norm() / expected.norm()) < 0.02
