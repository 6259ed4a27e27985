"""Equivariant MLP: equivariance with either nonlinearity and batch norm, bad input."""
import pytest
import torch

from topoequi.nn import EquivariantMLP
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant


@pytest.mark.parametrize("nonlinearity", ["gate", "norm"])
def test_mlp_with_batch_norm_is_equivariant(layer_group, nonlinearity, reps_for):
    group = layer_group
    rep_in, rep_out = reps_for(group)
    hidden = Rep(group, [(p, 3) for p in group.irreps(None if group.is_finite else 2)[:4]])
    mlp = EquivariantMLP(rep_in, [hidden, hidden], rep_out, nonlinearity=nonlinearity, batch_norm=True)
    x = torch.randn(9, rep_in.dim, generator=torch.Generator().manual_seed(1))
    assert assert_equivariant(mlp.train(), [x], [rep_in], rep_out)[0] < 1e-12
    assert assert_equivariant(mlp.eval(), [x], [rep_in], rep_out)[0] < 1e-12


def test_mlp_rejects_an_unknown_nonlinearity(reps_for):
    rep_in, rep_out = reps_for(group_from_name("SO(3)"))
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        EquivariantMLP(rep_in, [rep_out], None, nonlinearity="relu")
