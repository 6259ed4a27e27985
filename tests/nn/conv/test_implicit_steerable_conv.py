"""ImplicitSteerableConv: steerable edge attributes, the invariant MLP and its start at the analytic basis,
kernels of subgroups."""
import pytest
import torch

from topoequi.nn import ImplicitSteerableConv, SteerableConv
from topoequi.nn.conv.steerable_conv import radial_harmonics
from topoequi.symmetry import group_from_name
from topoequi.symmetry.harmonics import harmonics
from topoequi.testing import assert_equivariant


@pytest.mark.parametrize("name", ["O(3)", "SO(2)@R3", "D4", "SO(2)"])
def test_implicit_with_steerable_edge_attributes(name, point_graph, point_reps):
    group = group_from_name(name)
    rep_in, rep_out = point_reps(group)
    edge_rep = group.standard_rep + group.trivial_rep(3)
    pos, edge_index, gen = point_graph(group, seed=1)
    x = torch.randn(pos.shape[0], rep_in.dim, generator=gen)
    edge_attr = torch.randn(edge_index.shape[1], edge_rep.dim, generator=gen)
    conv = ImplicitSteerableConv(rep_in, rep_out, edge_rep=edge_rep, cutoff=3.0, batch_norm=True)
    errors = assert_equivariant(conv, [x, pos, edge_index, edge_attr], [rep_in, "pos", None, edge_rep], rep_out)
    assert errors[0] < 1e-9
    # the kernel depends on the edge attributes
    changed = conv(x, pos, edge_index, edge_attr + 1.0) - conv(x, pos, edge_index, edge_attr)
    assert changed.abs().max() > 1e-4


@pytest.mark.parametrize("name", ["O(3)", "SO(2)@R3", "D4", "O(2)"])
def test_invariant_mlp_with_invariant_edge_attributes(name, point_graph, point_reps):
    group = group_from_name(name)
    rep_in, rep_out = point_reps(group)
    edge_rep = group.trivial_rep(3)
    pos, edge_index, gen = point_graph(group, seed=4)
    x = torch.randn(pos.shape[0], rep_in.dim, generator=gen)
    edge_attr = torch.randn(edge_index.shape[1], 3, generator=gen)
    conv = ImplicitSteerableConv(rep_in, rep_out, edge_rep=edge_rep, cutoff=3.0, mlp="invariant")
    torch.nn.init.normal_(conv.kernel_mlp[-1].weight, generator=gen)  # a nonzero correction
    errors = assert_equivariant(conv, [x, pos, edge_index, edge_attr], [rep_in, "pos", None, edge_rep], rep_out)
    assert errors[0] < 1e-9
    changed = conv(x, pos, edge_index, edge_attr + 1.0) - conv(x, pos, edge_index, edge_attr)
    assert changed.abs().max() > 1e-4


@pytest.mark.parametrize("name", ["O(3)", "D4", "O"])
def test_invariant_mlp_starts_at_the_analytic_basis(name, point_graph):
    """The correction's last layer starts at zero: the kernel features are SteerableConv's rings x harmonics."""
    group = group_from_name(name)
    rep = group.standard_rep
    implicit = ImplicitSteerableConv(rep, rep, cutoff=3.0, num_radial=5, mlp="invariant").double()
    analytic = SteerableConv(rep, rep, cutoff=3.0, num_radial=5).double()
    pos, edge_index, _ = point_graph(group, seed=5)
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
