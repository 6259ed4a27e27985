"""Depthwise convolution of regular fields: one filter per field, expanded over the group."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from topoequi.nn.conv.steerable_image_conv import stencil_offsets
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Rep


def stencil_permutations(elements: Tensor, kernel_size: int) -> Tensor:
    r"""``[n, k * k]`` indices: row ``s`` lists, for every stencil entry :math:`v` (row-major), the
    entry :math:`g_s^{-1} v`, so that ``psi[..., perm[s]]`` is the filter moved by :math:`g_s`,
    :math:`(g \cdot \psi)(v) = \psi(g^{-1} v)`. The elements must map the square stencil onto itself."""
    offsets = stencil_offsets(kernel_size)  # [k * k, 2] as (x, y)
    moved = torch.einsum("gji,vj->gvi", elements.to(torch.float64).cpu(), offsets)  # g^T v = g^-1 v
    if (moved - moved.round()).abs().max() > 1e-9:
        raise ValueError("stencil_permutations: the elements must be symmetries of the pixel grid")
    c = (kernel_size - 1) / 2
    rows, cols = (c - moved[..., 1]).round().long(), (moved[..., 0] + c).round().long()
    return rows * kernel_size + cols


class RegularDepthwiseConv(nn.Module):
    r"""Equivariant depthwise convolution of regular fields of a finite planar group (:math:`C_N`
    with :math:`N \in \{1, 2, 4\}`, :math:`D_N` with :math:`N \in \{1, 2, 4\}`: the symmetries of
    the pixel grid), as in the depthwise layers of the equivariant MobileNetV2 of
    `"A Data and Compute Efficient Design for Limited-Resources Deep Learning"
    <https://arxiv.org/abs/2004.09691>`_ (Mohamed, Cesa, Cohen & Welling, 2020).

    Field :math:`c` stores its values :math:`f_c(g)` at the group elements
    (:func:`~topoequi.nn.regular_fields.regular_field_rep`). Each field has one learned
    :math:`k \times k` filter :math:`\psi_c`, moved by each element:

    .. math::
        f'_c(g)(p) = \sum_{v} \psi_c(g^{-1} v)\, f_c(g)(p + v) + b_c.

    It is equivariant: moving the input by :math:`h` sends :math:`f_c(g)` to
    :math:`f_c(h^{-1} g)(h^{-1} \cdot)`, and :math:`\psi_c(g^{-1} h v) = \psi_c((h^{-1} g)^{-1} v)`.
    The layer is one ``conv2d`` with ``groups`` equal to the channels, whose expanded filter is a
    gather of the :math:`\psi_c`: filters of the same field are exact permutations of one another.

    Args:
        rep (Rep): ``regular_field_rep(group, fields)`` of a finite planar group.
        kernel_size (int, optional): stencil width :math:`k`. (default: ``3``)
        stride (int, optional): as ``conv2d``. (default: ``1``)
        padding (int, optional): zero padding; ``None``: ``(k - 1) // 2``. (default: ``None``)
        bias (bool, optional): learn one bias per field. (default: ``False``)

    Shapes:
        - **input:** :math:`(B, \dim \rho, H, W)`
        - **output:** :math:`(B, \dim \rho, H', W')`, as ``conv2d``
    """

    def __init__(self, rep: Rep, kernel_size: int = 3, stride: int = 1, padding: int | None = None,
                 bias: bool = False):
        super().__init__()
        name = "RegularDepthwiseConv"
        if not isinstance(rep, Rep) or not rep.group.is_finite or rep.group.d != 2:
            raise ValueError(f"{name}: rep must be regular fields of a finite planar group, got {rep}")
        elements = rep.group.elements()
        fields, rest = divmod(rep.dim, elements.shape[0])
        if rest or rep != regular_field_rep(rep.group, fields):
            raise ValueError(f"{name}: rep must be regular_field_rep(group, fields), got {rep}")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(f"{name}: kernel_size must be a positive int, got {kernel_size!r}")
        try:
            perm = stencil_permutations(elements, kernel_size)
        except ValueError:
            raise ValueError(f"{name}: the group {rep.group} must only hold symmetries of the pixel grid "
                             "(rotations by multiples of 90 degrees and the flips among them)") from None
        self.register_buffer("perm", perm, persistent=False)
        self.in_rep = self.out_rep = rep
        self.fields, self.samples, self.kernel_size = fields, elements.shape[0], kernel_size
        self.stride = stride
        self.padding = (kernel_size - 1) // 2 if padding is None else padding
        self.weight = nn.Parameter(torch.empty(fields, kernel_size * kernel_size))
        self.bias = nn.Parameter(torch.empty(fields)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.kernel_size * self.kernel_size)  # conv2d's default for one input channel
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def expanded_filter(self) -> Tensor:
        """The ``conv2d`` filter ``[dim rho, 1, k, k]``: row ``c * n + s`` is ``psi_c`` moved by ``g_s``."""
        k = self.kernel_size
        return self.weight[:, self.perm].reshape(self.fields * self.samples, 1, k, k)

    def expanded_bias(self) -> Tensor | None:
        """The ``conv2d`` bias ``[dim rho]`` (each field's bias repeated over its samples), or ``None``."""
        return None if self.bias is None else self.bias.repeat_interleave(self.samples)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 4 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"RegularDepthwiseConv: x must be [B, {self.in_rep.dim}, H, W], got "
                             f"{list(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        bias = self.expanded_bias()
        return F.conv2d(x, self.expanded_filter().to(x.dtype), None if bias is None else bias.to(x.dtype),
                        self.stride, self.padding, groups=self.in_rep.dim)

    @torch.no_grad()
    def export(self) -> nn.Conv2d:
        """The equivalent plain depthwise ``torch.nn.Conv2d`` (same device and dtype)."""
        dim = self.in_rep.dim
        conv = nn.Conv2d(dim, dim, self.kernel_size, self.stride, self.padding, groups=dim,
                         bias=self.bias is not None, device=self.weight.device, dtype=self.weight.dtype)
        conv.weight.copy_(self.expanded_filter())
        if self.bias is not None:
            conv.bias.copy_(self.expanded_bias())
        return conv

    def __repr__(self) -> str:
        return (f"RegularDepthwiseConv(fields={self.fields}, group={self.in_rep.group}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})")
