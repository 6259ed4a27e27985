import pytest
import torch

from topoequi.nn import (
    EquivariantBatchNorm,
    EquivariantBilinear,
    EquivariantLinear,
    EquivariantMLP,
    GatedNonlinearity,
    NormNonlinearity,
)
from topoequi.symmetry import Rep, group_from_name, hom_basis
from topoequi.testing import assert_equivariant

GROUPS = ["SO(2)", "O(2)", "C5", "D4", "SO(3)", "O(3)", "SO(2)@R3", "O", "Ci"]


def reps_for(group, m_in=2, m_out=3):
    irreps = group.irreps(None if group.is_finite else 2)[:4]
    rep_in = Rep(group, [(p, m_in) for p in irreps]) + group.standard_rep
    rep_out = group.standard_rep + Rep(group, [(p, m_out) for p in irreps])
    return rep_in, rep_out


@pytest.mark.parametrize("name", GROUPS)
def test_linear_is_equivariant_and_spans_hom(name):
    group = group_from_name(name)
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


@pytest.mark.parametrize("name", GROUPS)
@pytest.mark.parametrize("nonlinearity", ["gate", "norm"])
def test_mlp_with_batch_norm_is_equivariant(name, nonlinearity):
    group = group_from_name(name)
    rep_in, rep_out = reps_for(group)
    hidden = Rep(group, [(p, 3) for p in group.irreps(None if group.is_finite else 2)[:4]])
    mlp = EquivariantMLP(rep_in, [hidden, hidden], rep_out, nonlinearity=nonlinearity, batch_norm=True)
    x = torch.randn(9, rep_in.dim, generator=torch.Generator().manual_seed(1))
    assert assert_equivariant(mlp.train(), [x], [rep_in], rep_out)[0] < 1e-12
    assert assert_equivariant(mlp.eval(), [x], [rep_in], rep_out)[0] < 1e-12


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


@pytest.mark.parametrize("name", ["SO(2)", "D3", "SO(3)", "O(3)"])
def test_bilinear_is_equivariant(name):
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


def test_layers_reject_bad_widths():
    group = group_from_name("SO(3)")
    rep_in, rep_out = reps_for(group)
    with pytest.raises(ValueError, match=f"last dimension {rep_in.dim}"):
        EquivariantLinear(rep_in, rep_out)(torch.zeros(3, rep_in.dim + 1))
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        EquivariantMLP(rep_in, [rep_out], None, nonlinearity="relu")
    with pytest.raises(ValueError, match="different groups|is of"):
        EquivariantLinear(rep_in, group_from_name("O(3)").standard_rep)
