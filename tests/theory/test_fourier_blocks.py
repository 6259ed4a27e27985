"""Fourier blocks of equivariant layers: norms of the dense operator from the blocks, multiplicities,
the conv as a pixelwise map after the stencil lift, and the unrolled norms."""
from functools import cache

import pytest
import torch
import torch.nn.functional as F

from topoequi.nn import EquivariantLinear
from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import group_from_name
from topoequi.theory import fourier_blocks
from topoequi.theory.layers import pixelwise_map
from topoequi.theory.norms import lift_norm_bound, unrolled_conv_norms


def _spectral(m: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(m.detach().to(torch.float64), 2))


@pytest.mark.parametrize("group", ["C8", "D4", "SO(2)"])
def test_linear_blocks_give_the_dense_norms(group):
    torch.manual_seed(0)
    g = group_from_name(group)
    in_rep = g.regular_rep(3).repeat(2) + g.trivial_rep(3)
    out_rep = g.regular_rep(3).repeat(3)
    layer = EquivariantLinear(in_rep, out_rep, bias=False).double()
    dense = layer.matrix().T
    layer_blocks = fourier_blocks(layer)
    blocks = layer_blocks.blocks
    assert layer_blocks.lift_norm == 1.0
    assert max(b.spectral_norm for b in blocks) == pytest.approx(_spectral(dense), rel=1e-9, abs=1e-12)
    # Plancherel: ||W||_F^2 = sum_psi d_psi ||W(psi)||_F^2, and ||W(psi)||_F^2 is the sum of squares of the
    # layer's coefficients of psi (an independent route through its parameters)
    assert sum(b.irrep.dim * b.frobenius_sq for b in blocks) == pytest.approx(float(dense.detach().square().sum()),
                                                                             rel=1e-12)
    for b in blocks:
        params = sum(float(layer.weights[key].detach().square().sum())
                     for psi, _, sources, _ in layer.plan if psi == b.irrep
                     for key, _, _ in sources)
        assert b.frobenius_sq == pytest.approx(params, rel=1e-12)
        copies_in = sum(m for psi, m in in_rep.irreps if psi == b.irrep)
        assert (b.multiplicity_in, b.multiplicity_out) == (copies_in, sum(m for psi, m in out_rep.irreps
                                                                          if psi == b.irrep))


@cache
def _steerable_conv(group: str, fields_in: int, fields_out: int) -> SteerableImageConv:
    g = group_from_name(group)
    rep_in = g.trivial_rep(1) if fields_in == 0 else regular_field_rep(g, fields_in)
    torch.manual_seed(fields_in + 10 * fields_out)
    return SteerableImageConv(rep_in, regular_field_rep(g, fields_out), 5, bias=False).double()


@pytest.mark.parametrize("group", ["C4", "D4"])
def test_conv_blocks_give_the_pixelwise_norms_and_the_multiplicities(group):
    conv = _steerable_conv(group, 1, 2)
    layer = fourier_blocks(conv)
    m = pixelwise_map(conv)
    assert max(b.spectral_norm for b in layer.blocks) == pytest.approx(_spectral(m), rel=1e-9)
    assert sum(b.irrep.dim * b.frobenius_sq for b in layer.blocks) == pytest.approx(float(m.square().sum()), rel=1e-12)
    # the input of W is h (x) rho_in: its multiplicities fill its dimension exactly
    in_dim = conv.kernel_rep.dim * conv.in_rep.dim
    irreps = group_from_name(group).irreps()
    seen = {b.irrep: b.multiplicity_in for b in layer.blocks}
    assert all(psi in seen for psi in irreps)
    assert sum(psi.dim * seen[psi] for psi in irreps) == in_dim
    assert sum(psi.dim * b.multiplicity_out for b in layer.blocks for psi in [b.irrep]) == conv.out_rep.dim


def test_conv_is_the_pixelwise_map_after_the_lift_and_its_norm_is_bounded():
    conv = _steerable_conv("C4", 1, 2)
    x = torch.randn(2, conv.in_rep.dim, 9, 9, dtype=torch.float64)
    # P: each input channel's neighbourhood projected on the kernel basis h_j; W: one map at every pixel
    basis = conv.basis.T.reshape(-1, 1, 5, 5).to(torch.float64)
    lifted = F.conv2d(x.reshape(-1, 1, 9, 9), basis, padding=2).view(2, -1, 9, 9)  # channels (i, j)
    y = torch.einsum("oc,bchw->bohw", pixelwise_map(conv), lifted)
    y = torch.einsum("oi,bihw->bohw", conv.out_rep.change_of_basis_or_eye(), y)
    assert (y - conv(x)).abs().max() < 1e-6 * y.abs().max()  # the filter may be stored in float32
    # ||conv on the image|| <= ||W||_2 ||P||_2 (the product the equivariant bound uses)
    layer = fourier_blocks(conv)
    w_norm = max(b.spectral_norm for b in layer.blocks)
    dense, _, _ = unrolled_conv_norms(conv.expanded_filter(torch.float64), (conv.in_rep.dim, 12, 12), padding=2,
                                      iterations=200)
    assert dense <= w_norm * layer.lift_norm * (1 + 1e-9)


def test_lift_norm_bound_is_an_upper_bound_and_tight_for_one_hot_stencils():
    conv = _steerable_conv("D4", 1, 2)
    power, _, _ = unrolled_conv_norms(conv.basis.T.reshape(-1, 1, 5, 5), (1, 32, 32), padding=2, iterations=100)
    bound = lift_norm_bound(conv.basis)
    assert power <= bound < 1.06 * power
    assert lift_norm_bound(torch.eye(9, dtype=torch.float64)) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_unrolled_conv_norms_match_the_dense_matrix(stride, padding, dilation):
    torch.manual_seed(4)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    shape = (2, 7, 6)
    eye = torch.eye(2 * 7 * 6, dtype=torch.float64).view(-1, *shape)
    dense = F.conv2d(eye, weight, stride=stride, padding=padding, dilation=dilation).flatten(1).T
    sigma, frobenius_sq, out_size = unrolled_conv_norms(weight, shape, stride, padding, dilation, iterations=500)
    assert out_size == dense.shape[0]
    assert frobenius_sq == pytest.approx(float(dense.detach().square().sum()), rel=1e-12)
    assert sigma == pytest.approx(_spectral(dense), rel=1e-6)
