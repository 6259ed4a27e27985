"""Fourier blocks and dense norms of the supported layers: EquivariantLinear, SteerableImageConv,
torch's Linear and Conv2d (the trivial group). Layers with a nonzero bias are refused: the bound is
for bias-free networks."""
from __future__ import annotations

import torch
from torch import nn

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.linear import EquivariantLinear
from topoequi.symmetry import clebsch_gordan
from topoequi.theory.fourier_blocks import (
    DenseNorms,
    LayerBlocks,
    isotypic_blocks,
    multiplicities,
    register_layer,
    trivial_blocks,
)
from topoequi.theory.norms import lift_norm_bound, unrolled_conv_norms


def _check_no_bias(layer: nn.Module, biases) -> None:
    if any(b is not None and b.numel() and bool(b.detach().abs().max() > 0) for b in biases):
        raise ValueError(f"fourier_blocks: layer {layer!r} has a nonzero bias; the bound holds for bias-free "
                         f"networks (build the layer with bias=False)")


def _linear_matrix(layer: EquivariantLinear) -> torch.Tensor:
    _check_no_bias(layer, list(layer.biases.values()))
    with torch.no_grad():
        return layer.matrix(torch.float64).T  # [out, in], y = M x


def equivariant_linear_blocks(layer: EquivariantLinear) -> LayerBlocks:
    m = layer.out_rep.change_of_basis_or_eye().to(torch.float64).T @ _linear_matrix(layer)
    return LayerBlocks(isotypic_blocks(m, layer.out_rep, multiplicities(layer.in_rep)))


def equivariant_linear_dense(layer: EquivariantLinear, shape: tuple[int, ...]) -> DenseNorms:
    m = _linear_matrix(layer)
    return DenseNorms(float(torch.linalg.matrix_norm(m, 2)), float(m.square().sum()), m.shape[1], m.shape[0])


def pixelwise_map(layer: SteerableImageConv) -> torch.Tensor:
    r"""The layer as :math:`W (P x)`: ``W [dim out, dim in * dim h]`` with rows in the irreps basis of
    ``out_rep`` and columns :math:`(i, j)` for input channel :math:`i` (basis of ``in_rep``) and kernel
    basis function :math:`h_j`, where :math:`(P x)_{ij}(p) = \sum_v h_j(v)\, x_i(p + v)`. Recovered from
    the filter: :math:`K[o, i, :] = \sum_j W[o, i, j]\, h_j`, :math:`h` of full column rank."""
    with torch.no_grad():
        k = layer.expanded_filter(torch.float64).flatten(2)  # [out, in, k * k]
        h = layer.basis.to(k)
        w = k @ h @ torch.linalg.inv(h.T @ h)  # [out, in, dim h]
    return layer.out_rep.change_of_basis_or_eye().to(w).T @ w.flatten(1)


def steerable_conv_blocks(layer: SteerableImageConv) -> LayerBlocks:
    r""":math:`W`: the equivariant map :math:`\rho_{in} \otimes h \to \rho_{out}` at every pixel;
    :math:`P`: the lift of each input pixel's neighbourhood onto the kernel basis :math:`h(v)`."""
    _check_no_bias(layer, [layer.bias])
    counts: dict = {}
    for psi_a, m_a in layer.kernel_rep.irreps:
        for psi_b, m_b in layer.in_rep.irreps:
            for psi_c in layer.group.irreps(None if layer.group.is_finite else psi_a.frequency + psi_b.frequency):
                n = clebsch_gordan(psi_a, psi_b, psi_c).shape[0] // psi_c.type_dim
                counts[psi_c] = counts.get(psi_c, 0) + m_a * m_b * n
    return LayerBlocks(isotypic_blocks(pixelwise_map(layer), layer.out_rep, counts), lift_norm_bound(layer.basis))


def steerable_conv_dense(layer: SteerableImageConv, shape: tuple[int, ...]) -> DenseNorms:
    _check_no_bias(layer, [layer.bias])
    with torch.no_grad():
        weight = layer.expanded_filter(torch.float64)
    return _conv_dense(weight, shape, layer.stride, layer.padding, layer.dilation)


def torch_linear_blocks(layer: nn.Linear) -> LayerBlocks:
    _check_no_bias(layer, [layer.bias])
    return LayerBlocks(trivial_blocks(layer.weight.detach().to(torch.float64)))


def torch_linear_dense(layer: nn.Linear, shape: tuple[int, ...]) -> DenseNorms:
    w = layer.weight.detach().to(torch.float64)
    return DenseNorms(float(torch.linalg.matrix_norm(w, 2)), float(w.square().sum()), w.shape[1], w.shape[0])


def torch_conv_blocks(layer: nn.Conv2d) -> LayerBlocks:
    """A plain convolution: :math:`P` lifts each neighbourhood (one-hot stencil), :math:`W` is the filter."""
    _check_plain_conv(layer)
    w = layer.weight.detach().to(torch.float64)
    k = w.shape[-2] * w.shape[-1]
    return LayerBlocks(trivial_blocks(w.flatten(1)), lift_norm_bound(torch.eye(k, dtype=torch.float64)))


def torch_conv_dense(layer: nn.Conv2d, shape: tuple[int, ...]) -> DenseNorms:
    _check_plain_conv(layer)
    return _conv_dense(layer.weight, shape, layer.stride[0], layer.padding[0], layer.dilation[0])


def _check_plain_conv(layer: nn.Conv2d) -> None:
    _check_no_bias(layer, [layer.bias])
    square = len(set(layer.stride)) == len(set(layer.padding)) == len(set(layer.dilation)) == 1
    if layer.groups != 1 or not square or not isinstance(layer.padding[0], int) or layer.padding_mode != "zeros":
        raise ValueError(f"fourier_blocks: layer {layer!r} must have groups=1, zero padding and equal strides, "
                         f"paddings and dilations on both axes")


def _conv_dense(weight, shape, stride, padding, dilation) -> DenseNorms:
    sigma, frobenius_sq, out_size = unrolled_conv_norms(weight, shape, stride, padding, dilation)
    return DenseNorms(sigma, frobenius_sq, int(torch.tensor(shape).prod()), out_size)


register_layer(EquivariantLinear, equivariant_linear_blocks, equivariant_linear_dense)
register_layer(SteerableImageConv, steerable_conv_blocks, steerable_conv_dense)
register_layer(nn.Linear, torch_linear_blocks, torch_linear_dense)
register_layer(nn.Conv2d, torch_conv_blocks, torch_conv_dense)
