"""Restriction maps of the sheaves: constant and signed line sheaves appended, soft presence of classes."""
import math

import pytest
import torch

from topoequi.topology import soft_presence, with_constant_sheaf


def test_constant_and_signed_coordinates_are_appended():
    restriction = torch.arange(8.0).view(1, 2, 2, 2)
    out = with_constant_sheaf(restriction, width=1, signed_width=2)
    assert out.shape == (1, 2, 5, 5)
    assert torch.equal(out[..., :2, :2], restriction)
    assert out[0, 0, 2:, 2:].diagonal().tolist() == [1.0, 1.0, 1.0]
    assert out[0, 1, 2:, 2:].diagonal().tolist() == [1.0, -1.0, -1.0]          # the signed ones flip at v
    assert out[..., :2, 2:].abs().max() == 0 and out[..., 2:, :2].abs().max() == 0
    assert out[0, 0, 2:, 2:].count_nonzero() == 3


@pytest.mark.parametrize("kwargs, match", [({"width": 0}, "width \\+ signed_width must be >= 1"),
                                           ({"width": 1.0}, "width must be a non-negative int"),
                                           ({"signed_width": -1}, "signed_width must be a non-negative int")])
def test_constant_sheaf_bad_widths(kwargs, match):
    with pytest.raises(ValueError, match=match):
        with_constant_sheaf(torch.zeros(2, 2, 1, 1), **kwargs)


def test_soft_presence_values():
    edge_weight = torch.tensor([0.2, 0.8], dtype=torch.float64)
    birth = torch.tensor([[0, 1, -1, 1]])
    mask = torch.tensor([[True, True, True, False]])
    alpha = soft_presence(birth, mask, edge_weight, 0.5, temperature=0.1)
    expected = [1 / (1 + math.exp(-3.0)), 1 / (1 + math.exp(3.0)), 1.0, 0.0]           # sigma((0.5 - b) / 0.1)
    assert alpha[0].tolist() == pytest.approx(expected, abs=1e-15)
    hard = soft_presence(birth, mask, edge_weight, 0.5, temperature=1e-4)
    assert hard[0].tolist() == pytest.approx([1.0, 0.0, 1.0, 0.0], abs=1e-12)   # an indicator as tau -> 0
    scale = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    soft_presence(birth, mask, edge_weight, scale, temperature=0.1).sum().backward()
    assert scale.grad.item() > 0
    with pytest.raises(ValueError, match="temperature must be positive, got 0"):
        soft_presence(birth, mask, edge_weight, 0.5, temperature=0)
