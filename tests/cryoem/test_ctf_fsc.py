"""CTF with RELION's conventions (values, zeros, astigmatism, envelope) and FSC resolutions."""
import math

import pytest
import torch

from topoequi.cryoem.ctf import ctf_image, electron_wavelength
from topoequi.cryoem.fsc import (
    fourier_shell_correlation,
    fsc_resolution,
    fsc_resolutions,
    resample_volume,
)
from topoequi.cryoem.projector import image_frequencies
from topoequi.cryoem.rotations import random_rotations


def params(du=15000.0, dv=15000.0, angle=0.0, kv=300.0, cs=2.7, q0=0.1, phase=0.0, bfactor=0.0):
    return torch.tensor([[du, dv, angle, kv, cs, q0, phase, bfactor]], dtype=torch.float64)


def test_wavelength_at_300_kv():
    assert abs(float(electron_wavelength(300.0)) - 0.019687) < 1e-5  # 0.0197 A, the textbook value


def test_ctf_value_at_zero_and_first_zero():
    n, pixel = 64, 1.0
    ctf = ctf_image(params(cs=0.0), n, pixel)[0]
    assert abs(float(ctf[n // 2, n // 2]) - 0.1) < 1e-12  # CTF(0) = amplitude contrast
    # without Cs the first zero is at pi lambda df k^2 + arcsin(Q0) = pi
    lam = float(electron_wavelength(300.0))
    k0 = math.sqrt((math.pi - math.asin(0.1)) / (math.pi * lam * 15000.0))
    fx, fy = image_frequencies(n)
    k = (fx**2 + fy**2).sqrt() / pixel
    inside = (k < k0 * 0.97) & (k > 0)
    assert (ctf[inside] > 0).all()  # positive up to the first zero (RELION's sign: underfocus positive)
    ring = (k > k0 * 1.03) & (k < k0 * 1.2)
    assert (ctf[ring] < 0).all()


def test_astigmatism_angle_and_bfactor():
    n = 64
    fx, fy = image_frequencies(n)
    c_u = ctf_image(params(du=20000.0, dv=20000.0, cs=0.0), n, 1.0)[0]
    c_v = ctf_image(params(du=10000.0, dv=10000.0, cs=0.0), n, 1.0)[0]
    astig = ctf_image(params(du=20000.0, dv=10000.0, angle=90.0, cs=0.0), n, 1.0)[0]
    along_y = (fx.abs() < 1e-12) & (fy != 0)  # direction of angle 90: defocus U
    along_x = (fy.abs() < 1e-12) & (fx != 0)
    assert torch.allclose(astig[along_y], c_u[along_y]) and torch.allclose(astig[along_x], c_v[along_x])
    envelope = ctf_image(params(bfactor=100.0), n, 1.0)[0] / ctf_image(params(), n, 1.0)[0]
    k2 = fx**2 + fy**2
    keep = ctf_image(params(), n, 1.0)[0].abs() > 1e-3
    assert torch.allclose(envelope[keep], torch.exp(-100.0 * k2[keep] / 4))
    with pytest.raises(ValueError, match=r"ctf_image: params must be \[B, 8\]"):
        ctf_image(torch.zeros(2, 7), 8, 1.0)


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
