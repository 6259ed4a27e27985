"""Norms of unrolled convolutions against the dense matrix, and the bound on the lift's norm."""
import pytest
import torch
import torch.nn.functional as F

from topoequi.theory.norms import lift_norm_bound, unrolled_conv_norms


def test_lift_norm_bound_is_an_upper_bound_and_tight_for_one_hot_stencils(steerable_conv):
    conv = steerable_conv("D4", 1, 2)
    power, _, _ = unrolled_conv_norms(conv.basis.T.reshape(-1, 1, 5, 5), (1, 32, 32), padding=2, iterations=100)
    bound = lift_norm_bound(conv.basis)
    assert power <= bound < 1.06 * power
    assert lift_norm_bound(torch.eye(9, dtype=torch.float64)) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_unrolled_conv_norms_match_the_dense_matrix(stride, padding, dilation, spectral):
    torch.manual_seed(4)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    shape = (2, 7, 6)
    eye = torch.eye(2 * 7 * 6, dtype=torch.float64).view(-1, *shape)
    dense = F.conv2d(eye, weight, stride=stride, padding=padding, dilation=dilation).flatten(1).T
    sigma, frobenius_sq, out_size = unrolled_conv_norms(weight, shape, stride, padding, dilation, iterations=500)
    assert out_size == dense.shape[0]
    assert frobenius_sq == pytest.approx(float(dense.detach().square().sum()), rel=1e-12)
    assert sigma == pytest.approx(spectral(dense), rel=1e-6)
