"""Gated and norm nonlinearities: exact values and equivariance."""
import torch

from topoequi.nn import GatedNonlinearity, NormNonlinearity
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant


def test_gate_and_norm_values():
    group = group_from_name("SO(3)")
    rep = Rep(group, [(group.irrep(0), 1), (group.irrep(1), 1)])
    gate = GatedNonlinearity(rep)
    assert gate.in_rep.dim == 5
    x = torch.tensor([[2.0, 1.0, -2.0, 0.5, 0.0]])
    expected = torch.tensor([[2.0 * torch.sigmoid(torch.tensor(2.0)).item(), 0.5, -1.0, 0.25]])
    assert torch.allclose(gate(x), expected)
    norm = NormNonlinearity(rep)
    v = torch.tensor([[-1.0, 3.0, 0.0, 4.0]])
    scale = torch.sigmoid(torch.tensor(25.0 + 1e-6).sqrt() - 1e-3)
    assert torch.allclose(norm(v)[0, 1:], scale * torch.tensor([3.0, 0.0, 4.0]))


def test_gate_and_norm_are_equivariant(layer_group):
    irreps = layer_group.irreps(None if layer_group.is_finite else 2)[:4]
    rep = Rep(layer_group, [(p, 2) for p in irreps])
    gen = torch.Generator().manual_seed(4)
    for layer in (GatedNonlinearity(rep), NormNonlinearity(rep)):
        x = torch.randn(7, layer.in_rep.dim, generator=gen, dtype=torch.float64)
        assert assert_equivariant(layer, [x])[0] < 1e-12
