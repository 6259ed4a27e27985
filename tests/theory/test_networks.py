"""The networks of the bound: quotient fields, field pooling, max pooling, their invariance and bounds."""
import pytest
import torch

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.symmetry import group_from_name
from topoequi.testing import assert_equivariant
from topoequi.testing.image_equivariance import grid_elements, transform_image
from topoequi.theory import pac_bayes_bounds
from topoequi.theory.networks import (
    FieldPooling,
    homogeneous_cnn,
    matched_channels,
    mixed_rep,
    num_parameters,
    quotient_field_rep,
)


@pytest.mark.parametrize("k, frequencies", [(1, [0, 1, 2, 3, 4]), (2, [0, 2, 4]), (4, [0, 4]), (8, [0])])
def test_quotient_fields_are_permutation_representations(k, frequencies):
    group = group_from_name("C8")
    rep = quotient_field_rep(group, k)
    assert rep.dim == 8 // k
    assert [psi.frequency for psi, _ in rep.irreps] == frequencies
    q = rep.change_of_basis_or_eye().to(torch.float64)
    assert torch.allclose(q @ q.T, torch.eye(rep.dim, dtype=torch.float64), atol=1e-12)
    matrices = rep.matrices(group.elements()).to(torch.float64)
    assert torch.allclose(matrices, matrices.round(), atol=1e-12)
    assert (matrices.round().abs().sum(-1) == 1).all() and (matrices.round() >= 0).all()
    # the generator (rotation by 2 pi / 8) shifts the 8 / k coset values cyclically
    shift = torch.roll(torch.eye(rep.dim, dtype=torch.float64), 1, 0)
    assert torch.allclose(matrices[1], shift, atol=1e-12)


def test_quotient_fields_refuse_bad_arguments():
    with pytest.raises(ValueError, match="k must divide the order 8 of C8, got 3"):
        quotient_field_rep(group_from_name("C8"), 3)
    with pytest.raises(ValueError, match="group must be C<N>"):
        quotient_field_rep(group_from_name("D4"), 2)
    with pytest.raises(ValueError, match="kind must be regular, trivial or quotient<k>, got 'norm'"):
        homogeneous_cnn("C4", (1, 1), fields=("norm",))
    with pytest.raises(ValueError, match="pooling must be one of"):
        homogeneous_cnn("C4", (1, 1), pooling="mean")


def test_field_pooling_takes_each_fields_maximum_and_is_invariant():
    group = group_from_name("C8")
    rep = mixed_rep(group, ("regular", "quotient2", "trivial"), 2)
    pool = FieldPooling((8, 4, 1) * 2)
    x = torch.randn(5, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = torch.stack([x[:, 0:8].amax(1), x[:, 8:12].amax(1), x[:, 12], x[:, 13:21].amax(1),
                            x[:, 21:25].amax(1), x[:, 25]], 1)
    assert torch.equal(pool(x), expected)
    assert_equivariant(pool, [x], [rep], group.trivial_rep(6), translate=False)
    with pytest.raises(ValueError, match=r"x must be \[B, 26, ...\]"):
        pool(x[:, :20])


@pytest.mark.parametrize("fields", [("quotient2", "trivial"), ("regular", "quotient4")])
def test_max_pooling_networks_of_mixed_fields_are_invariant(fields):
    torch.manual_seed(0)
    net = homogeneous_cnn("C8", (2, 2, 1), kernel_size=3, fields=fields, pooling="max").double().eval()
    x = torch.rand(4, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = net(x)
        errors = [float((net(transform_image(x, g)) - reference).abs().max())
                  for g in grid_elements(group_from_name("C8"))]
    assert len(errors) == 4 and max(errors) < 1e-12 and reference.abs().max() > 1e-4


def test_bound_of_a_max_pooling_network_and_its_rescaling():
    torch.manual_seed(3)
    net = homogeneous_cnn("C4", (1, 2), kernel_size=3, fields=("regular", "quotient2"), pooling="max").double()
    x = torch.rand(10, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    y = torch.arange(10)
    equivariant, nbs18 = pac_bayes_bounds(net, x, y, gamma=1e-3)
    assert equivariant.lipschitz == nbs18.lipschitz == 1.0  # 2x2 max pooling, field and global maxima
    assert equivariant.depth == 3 and equivariant.value < nbs18.value
    with torch.no_grad():
        net[0].field_weights.mul_(2.0) if net[0].field_counts else [p.mul_(2.0) for p in net[0].parameters()]
        net[-1].weight.div_(2.0)
    rescaled = pac_bayes_bounds(net, x, y, gamma=1e-3)[0]
    assert rescaled.value == pytest.approx(equivariant.value, rel=1e-6)


@pytest.mark.parametrize("fields", [("regular",), ("quotient2",), ("regular", "quotient2", "trivial")])
def test_matched_channels_count_the_parameters_of_mixed_fields_exactly(fields):
    group = group_from_name("C4")
    one = mixed_rep(group, fields, 1)
    first = num_parameters(SteerableImageConv(group.trivial_rep(1), one, 3, bias=False))
    inner = num_parameters(SteerableImageConv(one, one, 3, bias=False))
    c1, c2, c3 = matched_channels("C4", 4000, kernel_size=3, fields=fields)
    net = homogeneous_cnn("C4", (c1, c2, c3), kernel_size=3, fields=fields)
    assert c2 == c3 and c1 <= c2 <= 3 * c1
    assert num_parameters(net) == c1 * first + (c1 * c2 + c2 * c2) * inner + 10 * len(fields) * c2
    assert num_parameters(net) == pytest.approx(4000, rel=0.1)
