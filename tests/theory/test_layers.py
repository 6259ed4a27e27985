"""The supported layers: the conv as a pixelwise map after the stencil lift, its blocks and multiplicities,
plain torch convolutions and the ones refused."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from topoequi.symmetry import group_from_name
from topoequi.theory import dense_norms, fourier_blocks
from topoequi.theory.layers import pixelwise_map
from topoequi.theory.norms import unrolled_conv_norms


@pytest.mark.parametrize("group", ["C4", "D4"])
def test_conv_blocks_give_the_pixelwise_norms_and_the_multiplicities(group, spectral, steerable_conv):
    conv = steerable_conv(group, 1, 2)
    layer = fourier_blocks(conv)
    m = pixelwise_map(conv)
    assert max(b.spectral_norm for b in layer.blocks) == pytest.approx(spectral(m), rel=1e-9)
    assert sum(b.irrep.dim * b.frobenius_sq for b in layer.blocks) == pytest.approx(float(m.square().sum()), rel=1e-12)
    # the input of W is h (x) rho_in: its multiplicities fill its dimension exactly
    in_dim = conv.kernel_rep.dim * conv.in_rep.dim
    irreps = group_from_name(group).irreps()
    seen = {b.irrep: b.multiplicity_in for b in layer.blocks}
    assert all(psi in seen for psi in irreps)
    assert sum(psi.dim * seen[psi] for psi in irreps) == in_dim
    assert sum(psi.dim * b.multiplicity_out for b in layer.blocks for psi in [b.irrep]) == conv.out_rep.dim


def test_conv_is_the_pixelwise_map_after_the_lift_and_its_norm_is_bounded(steerable_conv):
    conv = steerable_conv("C4", 1, 2)
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


def test_plain_conv_blocks_are_the_filter_and_odd_convs_are_refused(spectral):
    torch.manual_seed(5)
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False).double()
    layer = fourier_blocks(conv)
    (block,) = layer.blocks
    assert block.spectral_norm == pytest.approx(spectral(conv.weight.flatten(1)), rel=1e-12)
    assert block.frobenius_sq == pytest.approx(float(conv.weight.detach().square().sum()), rel=1e-12)
    assert layer.lift_norm == pytest.approx(3.0, rel=1e-12)  # a 3x3 one-hot stencil: each pixel in 9 windows
    dense = dense_norms(conv, (2, 6, 6))
    matrix = F.conv2d(torch.eye(72, dtype=torch.float64).view(72, 2, 6, 6), conv.weight, padding=1).flatten(1).T
    assert (dense.width_in, dense.width_out) == (72, 108)
    assert dense.spectral == pytest.approx(spectral(matrix), rel=1e-6)
    assert dense.frobenius_sq == pytest.approx(float(matrix.detach().square().sum()), rel=1e-12)
    grouped = nn.Conv2d(2, 4, 3, groups=2, bias=False)
    with pytest.raises(ValueError, match=r"layer Conv2d\(2, 4.* must have groups=1, zero padding and equal strides"):
        fourier_blocks(grouped)
    uneven = nn.Conv2d(2, 3, 3, stride=(1, 2), bias=False)
    with pytest.raises(ValueError, match="must have groups=1"):
        dense_norms(uneven, (2, 6, 6))
