"""GroupPooling of regular fields in the sample basis: the maximum over the samples, invariant, named errors."""
import pytest
import torch

from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant


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
