"""Equivariant batch norm: normalised norms, equivariance in training and evaluation."""
import pytest
import torch

from topoequi.nn import EquivariantBatchNorm
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant


def test_batch_norm_normalizes_norms():
    group = group_from_name("O(3)")
    rep = Rep(group, [(group.irrep(0, 0), 2), (group.irrep(1, 1), 2)])
    bn = EquivariantBatchNorm(rep).train()
    x = torch.randn(500, rep.dim, generator=torch.Generator().manual_seed(2)) * 3 + 1
    y = bn(x)
    assert torch.allclose(y[:, :2].mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(y[:, :2].var(0, unbiased=False), torch.ones(2), atol=1e-3)
    vec = y[:, 2:].reshape(500, 2, 3)
    assert torch.allclose((vec**2).sum(-1).mean(0) / 3, torch.ones(2), atol=1e-3)
    with pytest.raises(ValueError, match="must be \\[N, 8\\]"):
        bn(torch.zeros(2, 3, 8))


def test_batch_norm_is_equivariant(layer_group, reps_for):
    with_basis, _ = reps_for(layer_group)
    if with_basis.change_of_basis is not None:
        with pytest.raises(ValueError, match="EquivariantBatchNorm: rep must be in the irreps basis"):
            EquivariantBatchNorm(with_basis)
    rep = Rep(layer_group, with_basis.irreps)
    bn = EquivariantBatchNorm(rep)
    x = torch.randn(16, rep.dim, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 2 + 1
    assert assert_equivariant(bn.train(), [x], [rep], rep)[0] < 1e-12
    assert assert_equivariant(bn.eval(), [x], [rep], rep)[0] < 1e-12
