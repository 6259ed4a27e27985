"""CTF with RELION's conventions: the electron wavelength, values, zeros, astigmatism, envelope."""
import math

import pytest
import torch

from topoequi.cryoem.ctf import ctf_image, electron_wavelength
from topoequi.cryoem.projector import image_frequencies


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
