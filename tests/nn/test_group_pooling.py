"""GroupPooling of regular fields in the sample basis: the maximum over the samples, invariant, named errors."""
import pytest
import torch

from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant
from topoequi.testing.image_equivariance import assert_image_equivariant

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", ["C4", "D3", "Ci"])
def test_sampled_fields_pool_to_their_maxima(name):
    group = group_from_name(name)
    rep = regular_field_rep(group, 2)
    pool = GroupPooling(rep)
    x = torch.randn(3, rep.dim, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = pool(x)
    assert out.shape == (3, 2, 4) and pool.out_rep == group.trivial_rep(2)
    assert torch.equal(out, x.unflatten(1, (2, group.order)).amax(2))
    flat = x[..., 0]
    assert assert_equivariant(pool, [flat], [rep], group.trivial_rep(2))[0] < 1e-12
    assert "fields=2" in repr(pool) and "sampled_basis=True" in repr(pool)


def test_other_representations_and_widths_are_refused():
    group = group_from_name("D4")
    with pytest.raises(ValueError, match="GroupPooling: rep must hold regular fields"):
        GroupPooling(Rep(group, "3x0e"))
    pool = GroupPooling(regular_field_rep(group, 1))
    with pytest.raises(ValueError, match=r"GroupPooling: x must be \[B, 8, \.\.\.\]"):
        pool(torch.zeros(2, 7))


@pytest.mark.parametrize("name", ["D4", "C8"])
def test_group_pooling_in_both_bases(name, random_image):
    group = group_from_name(name)
    sampled, coefficients = regular_field_rep(group, 3), group.regular_rep().repeat(3)
    x = random_image(sampled)
    pooled = GroupPooling(sampled)(x)
    assert pooled.shape == (2, 3, 7, 7)
    assert torch.allclose(pooled, x.view(2, 3, -1, 7, 7).amax(2))
    x_coeff = sampled.to_irreps_basis(x.movedim(1, -1)).movedim(-1, 1)
    scale = group.order**0.5  # samples of the function = sqrt(n) x the stored values
    assert torch.allclose(GroupPooling(coefficients)(x_coeff), pooled * scale, atol=1e-12)
    assert assert_image_equivariant(GroupPooling(sampled), x, sampled, group.trivial_rep(3)) < 1e-12
    with pytest.raises(ValueError, match="GroupPooling: rep must hold regular fields"):
        GroupPooling(group.standard_rep)
