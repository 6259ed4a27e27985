"""Regular fields in the sample basis: an orthogonal change of basis that permutes samples; their batch norm."""
import pytest
import torch

from topoequi.nn.regular_fields import RegularBatchNorm, regular_field_rep
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing.image_equivariance import assert_image_equivariant

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", ["C4", "D3", "O"])
def test_finite_groups_permute_the_samples(name):
    group = group_from_name(name)
    rep = regular_field_rep(group, 2)
    assert rep.dim == 2 * group.order
    q = rep.change_of_basis_or_eye()
    assert (q @ q.T - torch.eye(rep.dim, dtype=q.dtype)).abs().max() < 1e-12
    mats = rep.matrices(group.elements())
    assert (mats - mats.round()).abs().max() < 1e-9                  # permutation matrices
    assert torch.equal(mats.round().sum(1), torch.ones(group.order, rep.dim, dtype=mats.dtype))


def test_zero_channels_give_an_empty_representation():
    empty = regular_field_rep(group_from_name("C4"), 0)
    assert empty.dim == 0 and empty.change_of_basis is None and len(empty) == 0
    one = regular_field_rep(group_from_name("D4"), 1)
    assert (one * 0).dim == 0 and one.repeat(0).dim == 0


def test_regular_batch_norm_statistics_per_field():
    group = group_from_name("C4")
    rep = regular_field_rep(group, 3)
    bn = RegularBatchNorm(rep).double().train()
    x = torch.randn(6, 12, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3 + 2
    out = bn(x).unflatten(1, (3, 4))
    assert torch.allclose(out.mean((0, 2, 3, 4)), torch.zeros(3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(out.var((0, 2, 3, 4), unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-4)
    assert "fields=3, samples=4" in repr(bn)


def test_bad_arguments_are_named():
    group = group_from_name("C4")
    with pytest.raises(ValueError, match="regular_field_rep: channels must be a non-negative int, got -1"):
        regular_field_rep(group, -1)
    with pytest.raises(TypeError, match="RegularBatchNorm: rep must be a Rep, got str"):
        RegularBatchNorm("4x0")
    with pytest.raises(ValueError, match="RegularBatchNorm: rep must be regular_field_rep"):
        RegularBatchNorm(Rep(group, "4x0"))
    with pytest.raises(ValueError, match=r"RegularBatchNorm: x must be \[B, 4, \.\.\.\]"):
        RegularBatchNorm(regular_field_rep(group, 1))(torch.zeros(2, 3, 2, 2))


@pytest.mark.parametrize("name", ["D8", "C4", "D1"])
def test_regular_fields_are_permutations_and_relu_is_exact(name, random_image):
    group = group_from_name(name)
    rep = regular_field_rep(group, 3)
    mats = rep.matrices(group.elements())
    assert torch.allclose(mats.round(), mats, atol=1e-12) and bool((mats.round().sum(-1) == 1).all())
    assert assert_image_equivariant(torch.nn.ReLU(), random_image(rep), rep, rep) < 1e-12
    bn = RegularBatchNorm(rep)
    assert assert_image_equivariant(bn, random_image(rep), rep, rep) < 1e-12
    out = bn.double()(random_image(rep) * 3 + 1).view(2, 3, group.order, 7, 7)
    assert torch.allclose(out.mean((0, 2, 3, 4)), torch.zeros(3, dtype=out.dtype), atol=1e-12)
    assert torch.allclose(out.var((0, 2, 3, 4), unbiased=False), torch.ones(3, dtype=out.dtype), atol=1e-4)
    with pytest.raises(ValueError, match="RegularBatchNorm: rep must be regular_field_rep"):
        RegularBatchNorm(group.regular_rep().repeat(3))
