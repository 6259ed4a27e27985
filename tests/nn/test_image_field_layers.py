"""Layers on image fields: pixelwise batch norm and nonlinearities, regular fields, pooling, restriction."""
import pytest
import torch

from topoequi.nn import EquivariantBatchNorm, FourierNonlinearity, GatedNonlinearity
from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.invariant_projection import InvariantProjection
from topoequi.nn.pixelwise import Pixelwise
from topoequi.nn.regular_fields import RegularBatchNorm, regular_field_rep
from topoequi.nn.restrict_group import RestrictGroup, restrict_rep
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing.image_equivariance import assert_image_equivariant, grid_elements

pytestmark = pytest.mark.usefixtures("one_thread")


def image(rep, size=7, seed=0):
    return torch.randn(2, rep.dim, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("name", ["D4", "C8", "O(2)"])
def test_pixelwise_batch_norm_and_nonlinearities(name):
    group = group_from_name(name)
    rep = group.regular_rep(None if group.is_finite else 2).repeat(2)
    x = image(rep)
    for layer in (EquivariantBatchNorm(rep), FourierNonlinearity(rep, "relu", adaptive=not group.is_finite)):
        assert assert_image_equivariant(Pixelwise(layer), x, rep, rep) < 1e-12
    gated = Pixelwise(GatedNonlinearity(rep))
    assert assert_image_equivariant(gated, image(gated.in_rep), gated.in_rep, rep) < 1e-12
    norm = Pixelwise(EquivariantBatchNorm(rep)).double()(x)
    assert torch.allclose(norm[:, 0].mean(), torch.zeros((), dtype=x.dtype), atol=1e-12)  # invariant centered


@pytest.mark.parametrize("name", ["D8", "C4", "D1"])
def test_regular_fields_are_permutations_and_relu_is_exact(name):
    group = group_from_name(name)
    rep = regular_field_rep(group, 3)
    mats = rep.matrices(group.elements())
    assert torch.allclose(mats.round(), mats, atol=1e-12) and bool((mats.round().sum(-1) == 1).all())
    assert assert_image_equivariant(torch.nn.ReLU(), image(rep), rep, rep) < 1e-12
    bn = RegularBatchNorm(rep)
    assert assert_image_equivariant(bn, image(rep), rep, rep) < 1e-12
    out = bn.double()(image(rep) * 3 + 1).view(2, 3, group.order, 7, 7)
    assert torch.allclose(out.mean((0, 2, 3, 4)), torch.zeros(3, dtype=out.dtype), atol=1e-12)
    assert torch.allclose(out.var((0, 2, 3, 4), unbiased=False), torch.ones(3, dtype=out.dtype), atol=1e-4)
    with pytest.raises(ValueError, match="RegularBatchNorm: rep must be regular_field_rep"):
        RegularBatchNorm(group.regular_rep().repeat(3))


@pytest.mark.parametrize("name", ["D4", "C8"])
def test_group_pooling_in_both_bases(name):
    group = group_from_name(name)
    sampled, coefficients = regular_field_rep(group, 3), group.regular_rep().repeat(3)
    x = image(sampled)
    pooled = GroupPooling(sampled)(x)
    assert pooled.shape == (2, 3, 7, 7)
    assert torch.allclose(pooled, x.view(2, 3, -1, 7, 7).amax(2))
    x_coeff = sampled.to_irreps_basis(x.movedim(1, -1)).movedim(-1, 1)
    scale = group.order**0.5  # samples of the function = sqrt(n) x the stored values
    assert torch.allclose(GroupPooling(coefficients)(x_coeff), pooled * scale, atol=1e-12)
    assert assert_image_equivariant(GroupPooling(sampled), x, sampled, group.trivial_rep(3)) < 1e-12
    with pytest.raises(ValueError, match="GroupPooling: rep must hold regular fields"):
        GroupPooling(group.standard_rep)


def test_invariant_projection():
    group = group_from_name("O(2)")
    rep = group.standard_rep + group.trivial_rep(2) + Rep(group, [group.irrep(1, 2)])
    proj = Pixelwise(InvariantProjection(rep))
    x = image(rep)
    assert proj.out_rep.dim == 4
    assert assert_image_equivariant(proj, x, rep, proj.out_rep) < 1e-12
    v = rep.to_irreps_basis(x[0, :, 3, 3])
    assert torch.allclose(proj(x)[0, :, 3, 3], torch.stack([v[:2].norm(), v[2], v[3], v[4:].norm()]), atol=1e-6)


def test_restriction_chain_d8_d4_d1():
    d8, d4, d1 = (group_from_name(n) for n in ("D8", "D4", "D1"))
    rep8 = regular_field_rep(d8, 2)
    to4 = RestrictGroup(rep8, d4)
    sub = d4.elements()
    assert torch.allclose(restrict_rep(rep8, d4).matrices(sub), rep8.matrices(sub), atol=1e-12)
    assert to4.reorder and to4.out_rep == regular_field_rep(d4, 4)  # 2 fields of D8 = 4 regular fields of D4
    x8 = image(rep8)
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
    x = image(d8.trivial_rep(1), 9)
    assert len(grid_elements(d1)) == 2
    assert assert_image_equivariant(net, x, d1.trivial_rep(1), regular_field_rep(d1, 2)) < 1e-12
    not_sub = group_from_name("C3")
    with pytest.raises(ValueError, match="RestrictGroup: subgroup"):
        RestrictGroup(rep8, not_sub)
    assert "D8 -> D4" in repr(to4)
