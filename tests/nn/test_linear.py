"""Equivariant linear layer: equivariance, the span of Hom, biases on invariants, bad input."""
import pytest
import torch

from topoequi.nn import EquivariantLinear
from topoequi.symmetry import Rep, group_from_name, hom_basis
from topoequi.testing import assert_equivariant


def test_linear_is_equivariant_and_spans_hom(layer_group, reps_for):
    group = layer_group
    rep_in, rep_out = reps_for(group)
    layer = EquivariantLinear(rep_in, rep_out)
    x = torch.randn(6, rep_in.dim, generator=torch.Generator().manual_seed(0))
    assert assert_equivariant(layer, [x], [rep_in], rep_out)[0] < 1e-12
    # as many weights as the dimension of Hom(rep_in, rep_out): the layer is the general equivariant map
    num_weights = sum(w.numel() for w in layer.weights.values())
    assert num_weights == hom_basis(rep_in, rep_out).shape[0]
    # its matrix lies in the span of the Hom basis
    basis = hom_basis(rep_in, rep_out).flatten(1)
    m = layer.matrix().T.flatten()
    coef = torch.linalg.lstsq(basis.T, m[:, None]).solution
    assert (basis.T @ coef - m[:, None]).abs().max() < 1e-12


def test_linear_bias_only_on_invariants():
    group = group_from_name("SO(3)")
    rep = Rep(group, [(group.irrep(0), 3), (group.irrep(1), 2)])
    layer = EquivariantLinear(rep, rep)
    with torch.no_grad():
        for b in layer.biases.values():
            b.fill_(1.5)
    out = layer(torch.zeros(1, rep.dim))
    assert torch.equal(out[0], torch.tensor([1.5] * 3 + [0.0] * 6))


def test_linear_rejects_bad_widths(reps_for):
    group = group_from_name("SO(3)")
    rep_in, rep_out = reps_for(group)
    with pytest.raises(ValueError, match=f"last dimension {rep_in.dim}"):
        EquivariantLinear(rep_in, rep_out)(torch.zeros(3, rep_in.dim + 1))
    with pytest.raises(ValueError, match="different groups|is of"):
        EquivariantLinear(rep_in, group_from_name("O(3)").standard_rep)
