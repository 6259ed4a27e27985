"""SteerableMessagePassing, on both of its convolutions: equivariance for every group, the fused
aggregation against PyG's propagate and against the sum of outer products, gradients, empty graphs, bad input."""
from functools import partial

import pytest
import torch

from topoequi.graph import radius_graph
from topoequi.nn import ImplicitSteerableConv, SteerableConv
from topoequi.nn.conv.steerable_message_passing import outer_aggregate
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant

GROUPS = ["SO(3)", "O(3)", "SO(2)@R3", "Ci", "C6", "D4", "O(2)", "SO(2)", "O", "D3@R3"]
CONVS = [pytest.param(ImplicitSteerableConv, id="implicit"),
         pytest.param(partial(ImplicitSteerableConv, mlp="invariant"), id="implicit-invariant-mlp"),
         pytest.param(SteerableConv, id="analytic")]


@pytest.mark.parametrize("cls", CONVS)
@pytest.mark.parametrize("name", GROUPS)
def test_equivariant_for_every_group(cls, name, point_graph, point_reps):
    group = group_from_name(name)
    rep_in, rep_out = point_reps(group)
    pos, edge_index, gen = point_graph(group)
    x = torch.randn(pos.shape[0], rep_in.dim, generator=gen)
    conv = cls(rep_in, rep_out, cutoff=3.0)
    errors = assert_equivariant(conv, [x, pos, edge_index], [rep_in, "pos", None], rep_out)
    assert errors[0] < 1e-9
    assert conv(x, pos, edge_index).abs().max() > 1e-3  # not trivially zero


@pytest.mark.parametrize("cls", CONVS)
def test_fused_aggregation_equals_message_passing_and_permutation(cls, point_graph):
    group = group_from_name("O(3)")
    rep = Rep.from_e3nn("4x0e+2x1o+1x2e")
    pos, edge_index, gen = point_graph(group, n=12, e=50, seed=2)
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


def test_outer_aggregate_matches_the_sum_of_outer_products_with_and_without_a_degree_bound(device):
    gen = torch.Generator().manual_seed(0)
    pos = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    edge_index = radius_graph(pos, r=1.5, max_num_neighbors=6).to(device)
    kernel = torch.randn(edge_index.shape[1], 5, generator=gen, dtype=torch.float64).to(device)
    x = torch.randn(40, 3, generator=gen, dtype=torch.float64).to(device)
    expected = torch.zeros(40, 5, 3, dtype=torch.float64, device=device)
    expected.index_add_(0, edge_index[1], kernel[:, :, None] * x[edge_index[0]][:, None, :])
    for bound in (None, 6, 9):
        got = outer_aggregate(kernel, x, edge_index, 40, max_degree=bound)
        assert torch.allclose(got, expected, atol=1e-12, rtol=0)
