"""Radial bases of edge lengths: exact shell values, the cutoff envelope, parameters, bad input."""
import math

import pytest
import torch

from topoequi.nn.radial import GaussianRadialBasis, cosine_cutoff


def test_cosine_cutoff_values_and_support():
    r = torch.tensor([0.0, 1.0, 2.0, 3.9, 4.0, 5.0], dtype=torch.float64)
    out = cosine_cutoff(r, 4.0)
    expected = [1.0, 0.5 * (math.cos(math.pi / 4) + 1), 0.5, 0.5 * (math.cos(math.pi * 3.9 / 4) + 1), 0.0, 0.0]
    assert out.tolist() == pytest.approx(expected, abs=1e-15)
    assert out.dtype == torch.float64


def test_gaussian_shells_exact_values():
    basis = GaussianRadialBasis(5, cutoff=4.0, learnable=False)
    assert basis.centers.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert basis.log_width.exp().tolist() == pytest.approx([0.8] * 5)
    r = torch.tensor([1.0, 2.4], dtype=torch.float64)
    out = basis(r)
    assert out.shape == (2, 5) and out.dtype == torch.float64
    expected = [[math.exp(-0.5 * ((x - mu) / 0.8) ** 2) for mu in range(5)] for x in (1.0, 2.4)]
    assert out.tolist() == [pytest.approx(row, rel=1e-6) for row in expected]
    assert out[0, 1].item() == 1.0                                   # on a center: the peak


def test_learnable_shells_are_parameters_and_reset():
    learned, fixed = GaussianRadialBasis(3, 2.0), GaussianRadialBasis(3, 2.0, learnable=False)
    assert {n for n, _ in learned.named_parameters()} == {"centers", "log_width"}
    assert list(fixed.parameters()) == [] and {n for n, _ in fixed.named_buffers()} == {"centers", "log_width"}
    with torch.no_grad():
        learned.centers.add_(1.0)
    learned.reset_parameters()
    assert learned.centers.tolist() == [0.0, 1.0, 2.0]
    r = torch.rand(7, dtype=torch.float64, requires_grad=True)
    learned(r).sum().backward()
    assert learned.centers.grad.abs().sum() > 0 and r.grad.abs().sum() > 0
    assert repr(fixed) == "GaussianRadialBasis(3, cutoff=2.0, learnable=False)"


@pytest.mark.parametrize("num_basis, cutoff", [(0, 1.0), (4, 0.0), (4, -1.0)])
def test_bad_arguments(num_basis, cutoff):
    with pytest.raises(ValueError, match="GaussianRadialBasis: need num_basis >= 1 and cutoff > 0"):
        GaussianRadialBasis(num_basis, cutoff)
