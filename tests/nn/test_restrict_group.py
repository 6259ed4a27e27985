"""Restriction to a subgroup: the same matrices on the subgroup, regular fields reordered into regular fields."""
import pytest
import torch

from topoequi.nn.regular_fields import regular_field_rep
from topoequi.nn.restrict_group import RestrictGroup, regular_reordering, restrict_rep
from topoequi.symmetry import Rep, group_from_name


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
