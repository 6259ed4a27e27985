"""Equivariant bilinear layer: equivariance on pairs of inputs."""
import pytest
import torch

from topoequi.nn import EquivariantBilinear
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant


@pytest.mark.parametrize("name", ["SO(2)", "D3", "SO(3)", "O(3)"])
def test_bilinear_is_equivariant(name, reps_for):
    group = group_from_name(name)
    left, out = reps_for(group)
    right = Rep(group, [(p, 2) for p in group.irreps(None if group.is_finite else 2)[:3]])
    left = Rep(group, left.irreps)
    layer = EquivariantBilinear(left, right, out)
    gen = torch.Generator().manual_seed(3)
    u, v = torch.randn(5, left.dim, generator=gen), torch.randn(5, right.dim, generator=gen)

    def apply(a, b):
        return layer(a[:, :, None] * b[:, None, :])

    assert assert_equivariant(apply, [u, v], [left, right], out)[0] < 1e-12
