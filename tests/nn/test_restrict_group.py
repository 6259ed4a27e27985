"""Restriction to a subgroup: the same matrices on the subgroup, regular fields reordered into regular fields."""
import pytest
import torch

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.nn.restrict_group import RestrictGroup, regular_reordering, restrict_rep
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing.image_equivariance import assert_image_equivariant, grid_elements

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name, sub", [("O(2)", "D4"), ("D8", "D4"), ("SO(3)", "O"), ("D4", "C4")])
def test_restricted_matrices_agree_on_the_subgroup(name, sub):
    group, subgroup = group_from_name(name), group_from_name(sub)
    rep = Rep(group, [(psi, 2) for psi in group.irreps(None if group.is_finite else 2)[:3]])
    res = restrict_rep(rep, subgroup)
    assert res.group == subgroup and res.dim == rep.dim
    h = subgroup.sample(6, generator=torch.Generator().manual_seed(0))
    assert (res.matrices(h) - rep.matrices(h)).abs().max() < 1e-10


def test_regular_fields_are_reordered():
    d8, d4 = group_from_name("D8"), group_from_name("D4")
    rep = regular_field_rep(d8, 2)
    index = regular_reordering(rep, d4)
    assert index is not None and sorted(index.tolist()) == list(range(rep.dim))
    layer = RestrictGroup(rep, d4)
    assert layer.reorder and layer.out_rep == regular_field_rep(d4, 4)
    x = torch.randn(3, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(layer(x), x[:, index])
    assert regular_reordering(Rep(d8, "2x0e"), d4) is None               # not a regular field: no reordering


def test_bad_subgroups_are_named():
    with pytest.raises(TypeError, match="RestrictGroup: subgroup must be a Group, got str"):
        RestrictGroup(Rep(group_from_name("D4"), "1x0e"), "C4")
    with pytest.raises(ValueError, match="RestrictGroup: subgroup"):
        restrict_rep(Rep(group_from_name("C4"), "1x1"), group_from_name("D4"))


def test_restriction_chain_d8_d4_d1(random_image):
    d8, d4, d1 = (group_from_name(n) for n in ("D8", "D4", "D1"))
    rep8 = regular_field_rep(d8, 2)
    to4 = RestrictGroup(rep8, d4)
    sub = d4.elements()
    assert torch.allclose(restrict_rep(rep8, d4).matrices(sub), rep8.matrices(sub), atol=1e-12)
    assert to4.reorder and to4.out_rep == regular_field_rep(d4, 4)  # 2 fields of D8 = 4 regular fields of D4
    x8 = random_image(rep8)
    moved = to4(x8)
    assert sorted(moved.flatten().tolist()) == sorted(x8.flatten().tolist())  # a reordering
    assert assert_image_equivariant(to4, x8, rep8, to4.out_rep, elements=grid_elements(d4)) < 1e-12
    general = RestrictGroup(group_from_name("O(2)").regular_rep(2), d4)  # coefficients: the type changes only
    assert not general.reorder
    assert torch.allclose(general.out_rep.matrices(sub), general.in_rep.matrices(sub), atol=1e-12)
    rep4 = regular_field_rep(d4, 3)
    to1 = RestrictGroup(rep4, d1)
    net = torch.nn.Sequential(SteerableImageConv(d8.trivial_rep(1), rep8, 3), to4,
                              SteerableImageConv(to4.out_rep, rep4, 3), to1,
                              SteerableImageConv(to1.out_rep, regular_field_rep(d1, 2), 3))
    x = random_image(d8.trivial_rep(1), 9)
    assert len(grid_elements(d1)) == 2
    assert assert_image_equivariant(net, x, d1.trivial_rep(1), regular_field_rep(d1, 2)) < 1e-12
    not_sub = group_from_name("C3")
    with pytest.raises(ValueError, match="RestrictGroup: subgroup"):
        RestrictGroup(rep8, not_sub)
    assert "D8 -> D4" in repr(to4)
