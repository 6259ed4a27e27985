"""ImplicitSteerableConv and SteerableConv: equivariance for every group, aggregation, gradients, bad input."""
from functools import partial

import pytest
import torch

from topoequi.nn import ImplicitSteerableConv, SteerableConv
from topoequi.nn.conv.steerable_conv import radial_harmonics
from topoequi.symmetry import Rep, group_from_name
from topoequi.symmetry.harmonics import harmonics
from topoequi.testing import assert_equivariant

GROUPS = ["SO(3)", "O(3)", "SO(2)@R3", "Ci", "C6", "D4", "O(2)", "SO(2)", "O", "D3@R3"]
CONVS = [pytest.param(ImplicitSteerableConv, id="implicit"),
         pytest.param(partial(ImplicitSteerableConv, mlp="invariant"), id="implicit-invariant-mlp"),
         pytest.param(SteerableConv, id="analytic")]


def graph(group, n=10, e=36, seed=0):
    gen = torch.Generator().manual_seed(seed)
    pos = torch.randn(n, group.d, generator=gen) * 1.5
    edge_index = torch.randint(n, (2, e), generator=gen)
    return pos, edge_index, gen


def reps(group):
    irreps = group.irreps(None if group.is_finite else 2)[:4]
    return (Rep(group, [(p, 2) for p in irreps]) + group.standard_rep,
            group.standard_rep + Rep(group, [(p, 2) for p in irreps]))


@pytest.mark.parametrize("cls", CONVS)
@pytest.mark.parametrize("name", GROUPS)
def test_equivariant_for_every_group(cls, name):
    group = group_from_name(name)
    rep_in, rep_out = reps(group)
    pos, edge_index, gen = graph(group)
    x = torch.randn(pos.shape[0], rep_in.dim, generator=gen)
    conv = cls(rep_in, rep_out, cutoff=3.0)
    errors = assert_equivariant(conv, [x, pos, edge_index], [rep_in, "pos", None], rep_out)
    assert errors[0] < 1e-9
    assert conv(x, pos, edge_index).abs().max() > 1e-3  # not trivially zero


@pytest.mark.parametrize("name", ["O(3)", "SO(2)@R3", "D4", "SO(2)"])
def test_implicit_with_steerable_edge_attributes(name):
    group = group_from_name(name)
    rep_in, rep_out = reps(group)
    edge_rep = group.standard_rep + group.trivial_rep(3)
    pos, edge_index, gen = graph(group, seed=1)
    x = torch.randn(pos.shape[0], rep_in.dim, generator=gen)
    edge_attr = torch.randn(edge_index.shape[1], edge_rep.dim, generator=gen)
    conv = ImplicitSteerableConv(rep_in, rep_out, edge_rep=edge_rep, cutoff=3.0, batch_norm=True)
    errors = assert_equivariant(conv, [x, pos, edge_index, edge_attr], [rep_in, "pos", None, edge_rep], rep_out)
    assert errors[0] < 1e-9
    # the kernel depends on the edge attributes
    changed = conv(x, pos, edge_index, edge_attr + 1.0) - conv(x, pos, edge_index, edge_attr)
    assert changed.abs().max() > 1e-4


@pytest.mark.parametrize("name", ["O(3)", "SO(2)@R3", "D4", "O(2)"])
def test_invariant_mlp_with_invariant_edge_attributes(name):
    group = group_from_name(name)
    rep_in, rep_out = reps(group)
    edge_rep = group.trivial_rep(3)
    pos, edge_index, gen = graph(group, seed=4)
    x = torch.randn(pos.shape[0], rep_in.dim, generator=gen)
    edge_attr = torch.randn(edge_index.shape[1], 3, generator=gen)
    conv = ImplicitSteerableConv(rep_in, rep_out, edge_rep=edge_rep, cutoff=3.0, mlp="invariant")
    torch.nn.init.normal_(conv.kernel_mlp[-1].weight, generator=gen)  # a nonzero correction
    errors = assert_equivariant(conv, [x, pos, edge_index, edge_attr], [rep_in, "pos", None, edge_rep], rep_out)
    assert errors[0] < 1e-9
    changed = conv(x, pos, edge_index, edge_attr + 1.0) - conv(x, pos, edge_index, edge_attr)
    assert changed.abs().max() > 1e-4


@pytest.mark.parametrize("name", ["O(3)", "D4", "O"])
def test_invariant_mlp_starts_at_the_analytic_basis(name):
    """The correction's last layer starts at zero: the kernel features are SteerableConv's rings x harmonics."""
    group = group_from_name(name)
    rep = group.standard_rep
    implicit = ImplicitSteerableConv(rep, rep, cutoff=3.0, num_radial=5, mlp="invariant").double()
    analytic = SteerableConv(rep, rep, cutoff=3.0, num_radial=5).double()
    pos, edge_index, _ = graph(group, seed=5)
    rel = (pos[edge_index[0]] - pos[edge_index[1]]).double()
    length = rel.norm(dim=1)
    expected = analytic.kernel_features(rel, length, None)
    assert implicit.bilinear.left_rep.irreps == analytic.bilinear.left_rep.irreps
    assert torch.allclose(implicit.kernel_features(rel, length, None), expected, rtol=0, atol=1e-14)
    assert expected.abs().max() > 0.1
    with torch.no_grad():
        implicit.kernel_mlp[-1].bias.fill_(0.5)  # every profile + 0.5: the harmonics themselves are added
    y = harmonics(rel, group, 2)
    shifted = implicit.kernel_features(rel, length, None) - expected
    assert torch.allclose(shifted, radial_harmonics(torch.full_like(length, 0.5)[:, None].expand(-1, 5), y,
                                                    implicit.harmonic_rep), rtol=0, atol=1e-14)


def test_subgroup_kernels_are_richer_than_o3_kernels():
    # Under SO(2) about z, the kernel may depend on the z coordinate alone; under O(3) it may not.
    pos = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    edge_index = torch.tensor([[1], [0]])
    so2 = group_from_name("SO(2)@R3")
    o3 = group_from_name("O(3)")
    conv_sub = ImplicitSteerableConv(so2.trivial_rep(), so2.trivial_rep(), cutoff=3.0).double()
    conv_o3 = ImplicitSteerableConv(o3.trivial_rep(), o3.trivial_rep(), cutoff=3.0).double()
    x = torch.ones(2, 1, dtype=torch.float64)
    flipped = pos * torch.tensor([1.0, 1.0, -1.0])
    for conv, differs in ((conv_sub, True), (conv_o3, False)):
        a = conv(x, pos.double(), edge_index)[0]
        b = conv(x, flipped.double(), edge_index)[0]
        assert ((a - b).abs().max() > 1e-6) == differs


@pytest.mark.parametrize("cls", CONVS)
def test_fused_aggregation_equals_message_passing_and_permutation(cls):
    group = group_from_name("O(3)")
    rep = Rep.from_e3nn("4x0e+2x1o+1x2e")
    pos, edge_index, gen = graph(group, n=12, e=50, seed=2)
    x = torch.randn(12, rep.dim, generator=gen, dtype=torch.float64)
    pos = pos.double()
    for aggr in ("add", "mean"):
        conv = cls(rep, rep, cutoff=3.0, aggr=aggr).double()
        assert conv.aggr == aggr  # honoured: PyG's own aggregation on the message-passing path
        fused = conv(x, pos, edge_index)
        conv.fused = False
        reference = conv(x, pos, edge_index)
        conv.fused = True
        assert (fused - reference).abs().max() < 1e-12
        # relabel nodes and shuffle edges: outputs permute along
        perm = torch.randperm(12, generator=gen)
        inv = torch.argsort(perm)
        shuffled = inv[edge_index][:, torch.randperm(50, generator=gen)]
        out = conv(x[perm], pos[perm], shuffled)
        assert (out - fused[perm]).abs().max() < 1e-12
    with pytest.raises(ValueError, match="aggr must be 'add' or 'mean'"):
        cls(rep, rep, aggr="max")


@pytest.mark.parametrize("cls", CONVS)
def test_gradcheck_tiny(cls):
    group = group_from_name("SO(3)")
    rep = Rep.from_e3nn("2x0e+1x1o", group)
    conv = cls(rep, rep, cutoff=2.5, num_radial=3).double()
    gen = torch.Generator().manual_seed(3)
    pos = torch.randn(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    x = torch.randn(4, rep.dim, generator=gen, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 1], [1, 0, 1, 2, 3]])
    assert torch.autograd.gradcheck(lambda a, p: conv(a, p, edge_index), (x, pos))


@pytest.mark.parametrize("cls", CONVS)
def test_no_edges_and_isolated_nodes_give_bias_only(cls):
    rep = Rep.from_e3nn("3x0e+2x1o")
    conv = cls(rep, rep)
    with torch.no_grad():
        conv.bias.fill_(0.7)
    x, pos = torch.randn(5, rep.dim), torch.randn(5, 3)
    empty = conv(x, pos, torch.zeros(2, 0, dtype=torch.long))
    assert torch.equal(empty, torch.tensor([[0.7] * 3 + [0.0] * 6] * 5))
    out = conv(x, pos, torch.tensor([[0, 1], [1, 0]]))  # nodes 2..4 isolated
    assert torch.isfinite(out).all() and torch.equal(out[2:], empty[2:])
    # a self-loop (zero edge vector) stays finite and equivariant
    loop = torch.tensor([[0, 1, 1], [0, 0, 1]])
    assert assert_equivariant(conv, [x, pos, loop], [rep, "pos", None], rep)[0] < 1e-9


def test_bad_input_is_named():
    group = group_from_name("O(3)")
    rep = Rep.from_e3nn("3x0e+2x1o")
    conv = ImplicitSteerableConv(rep, rep, edge_rep=group.trivial_rep(2))
    x, pos, ei = torch.randn(4, rep.dim), torch.randn(4, 3), torch.tensor([[0, 1], [1, 2]])
    ea = torch.randn(2, 2)
    with pytest.raises(ValueError, match=r"ImplicitSteerableConv: x must be \[N, 9\]"):
        conv(torch.randn(4, 8), pos, ei, ea)
    with pytest.raises(ValueError, match=r"pos must be \[N, 3\]"):
        conv(x, torch.randn(4, 2), ei, ea)
    with pytest.raises(ValueError, match="pos contains NaN"):
        conv(x, pos.clone().index_fill_(0, torch.tensor([1]), float("nan")), ei, ea)
    with pytest.raises(ValueError, match="edge_attr contains NaN"):
        conv(x, pos, ei, torch.full((2, 2), float("inf")))
    with pytest.raises(ValueError, match="edge_attr must be given"):
        conv(x, pos, ei)
    with pytest.raises(ValueError, match="outside"):
        conv(x, pos, torch.tensor([[0], [7]]), ea[:1])
    with pytest.raises(TypeError, match="must match x"):
        conv(x, pos.double(), ei, ea)
    with pytest.raises(ValueError, match="mlp must be 'equivariant' or 'invariant', got 'gated'"):
        ImplicitSteerableConv(rep, rep, mlp="gated")
    with pytest.raises(ValueError, match="mlp='invariant' needs invariant edge attributes"):
        ImplicitSteerableConv(rep, rep, edge_rep=group.standard_rep, mlp="invariant")
    with pytest.raises(ValueError, match="hidden_rep and batch_norm are options of mlp='equivariant'"):
        ImplicitSteerableConv(rep, rep, mlp="invariant", batch_norm=True)
