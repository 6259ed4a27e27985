"""Fourier blocks of equivariant layers: the dense norms from the blocks, Plancherel, the multiplicities."""
import pytest
import torch

from topoequi.nn import EquivariantLinear
from topoequi.symmetry import group_from_name
from topoequi.theory import fourier_blocks


@pytest.mark.parametrize("group", ["C8", "D4", "SO(2)"])
def test_linear_blocks_give_the_dense_norms(group, spectral):
    torch.manual_seed(0)
    g = group_from_name(group)
    in_rep = g.regular_rep(3).repeat(2) + g.trivial_rep(3)
    out_rep = g.regular_rep(3).repeat(3)
    layer = EquivariantLinear(in_rep, out_rep, bias=False).double()
    dense = layer.matrix().T
    layer_blocks = fourier_blocks(layer)
    blocks = layer_blocks.blocks
    assert layer_blocks.lift_norm == 1.0
    assert max(b.spectral_norm for b in blocks) == pytest.approx(spectral(dense), rel=1e-9, abs=1e-12)
    # Plancherel: ||W||_F^2 = sum_psi d_psi ||W(psi)||_F^2, and ||W(psi)||_F^2 is the sum of squares of the
    # layer's coefficients of psi (an independent route through its parameters)
    assert sum(b.irrep.dim * b.frobenius_sq for b in blocks) == pytest.approx(float(dense.detach().square().sum()),
                                                                             rel=1e-12)
    for b in blocks:
        params = sum(float(layer.weights[key].detach().square().sum())
                     for psi, _, sources, _ in layer.plan if psi == b.irrep
                     for key, _, _ in sources)
        assert b.frobenius_sq == pytest.approx(params, rel=1e-12)
        copies_in = sum(m for psi, m in in_rep.irreps if psi == b.irrep)
        assert (b.multiplicity_in, b.multiplicity_out) == (copies_in, sum(m for psi, m in out_rep.irreps
                                                                          if psi == b.irrep))
