"""RegularDepthwiseConv: exact equivariance on the grid (strided, all finite grid groups), export, errors."""
import pytest
import torch

from topoequi.nn.conv.regular_depthwise_conv import RegularDepthwiseConv, stencil_permutations
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import group_from_name
from topoequi.testing.image_equivariance import grid_elements, image_equivariance_error


@pytest.mark.parametrize("name", ["D4", "C4", "D2", "C2", "D1"])
@pytest.mark.parametrize("stride", [1, 2])
def test_equivariant_on_the_grid(name, stride):
    group = group_from_name(name)
    rep = regular_field_rep(group, 3)
    conv = RegularDepthwiseConv(rep, 3, stride=stride, bias=True)
    x = torch.randn(2, rep.dim, 17, 17, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert image_equivariance_error(conv, x, rep, rep) < 1e-13
    # an arbitrary filter per sample (no tying) is not equivariant
    untied = conv.export().double()
    untied.weight.data.normal_()
    assert image_equivariance_error(untied, x, rep, rep) > 1e-3


def test_expanded_filter_is_the_field_filter_moved_by_every_element():
    group = group_from_name("D4")
    conv = RegularDepthwiseConv(regular_field_rep(group, 2), 3)
    weight = conv.expanded_filter().view(2, 8, 9)
    for s in range(8):  # row s is psi moved by g_s: exactly a permutation of psi's entries
        assert torch.equal(weight[:, s].sort(-1).values, conv.weight.sort(-1).values)
    assert torch.equal(weight[:, 0], conv.weight)  # the identity comes first
    # a 90-degree rotation of a 3x3 stencil moves the corners onto corners, edges onto edges
    perm = stencil_permutations(grid_elements(group), 3)
    assert perm.shape == (8, 9) and (perm[:, 4] == 4).all()
    assert set(perm[1].tolist()) == set(range(9))


def test_export_gives_the_same_output():
    rep = regular_field_rep(group_from_name("C4"), 3)
    conv = RegularDepthwiseConv(rep, 3, stride=2, bias=True)
    x = torch.randn(2, rep.dim, 9, 9)
    plain = conv.export()
    assert plain.groups == rep.dim
    assert torch.allclose(plain(x), conv(x), atol=1e-6)
    assert "RegularDepthwiseConv(fields=3, group=C4" in repr(conv)


def test_bad_input():
    with pytest.raises(ValueError, match="RegularDepthwiseConv: rep must be regular fields of a finite"):
        RegularDepthwiseConv(group_from_name("SO(2)").regular_rep(2), 3)
    with pytest.raises(ValueError, match="RegularDepthwiseConv: the group C8 must only hold symmetries"):
        RegularDepthwiseConv(regular_field_rep(group_from_name("C8"), 1), 3)
    with pytest.raises(ValueError, match="RegularDepthwiseConv: rep must be regular_field_rep"):
        group = group_from_name("D4")
        RegularDepthwiseConv(group.trivial_rep(8), 3)
    conv = RegularDepthwiseConv(regular_field_rep(group_from_name("D4"), 1), 3)
    with pytest.raises(ValueError, match=r"RegularDepthwiseConv: x must be \[B, 8, H, W\]"):
        conv(torch.randn(1, 4, 5, 5))
