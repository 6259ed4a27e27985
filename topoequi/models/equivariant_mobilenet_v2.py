"""Equivariant MobileNetV2: inverted residual blocks on regular fields of C_N / D_N."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.models.mobilenet_v2 import (
    DOWNSAMPLING,
    GlobalPool,
    InvertedResidual,
    MobileNetV2,
    mobilenet_v2_layout,
)
from topoequi.nn.conv.regular_depthwise_conv import RegularDepthwiseConv
from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.regular_fields import RegularBatchNorm, regular_field_rep
from topoequi.symmetry import Group, Rep, group_from_name


def _conv_bn_relu6(conv: nn.Module, relu: bool = True) -> list[nn.Module]:
    return [conv, RegularBatchNorm(conv.out_rep)] + ([nn.ReLU6()] if relu else [])


class EquivariantMobileNetV2(nn.Module):
    r"""The equivariant MobileNetV2 of `"A Data and Compute Efficient Design for Limited-Resources
    Deep Learning" <https://arxiv.org/abs/2004.09691>`_ (Mohamed, Cesa, Cohen & Welling, 2020):
    :class:`~topoequi.models.MobileNetV2` with every feature map a stack of regular fields of a
    finite group :math:`G` of grid symmetries (:math:`D_4` by default),

    .. math::
        f \mapsto f + \mathrm{BN}\big(W_p\, \mathrm{ReLU6}(\mathrm{BN}(\psi \circledast_G
        \mathrm{ReLU6}(\mathrm{BN}(W_e\, f))))\big),
        \qquad \text{logits} = A\, \operatorname{mean}_p \max_{g \in G} f_L(p)(g) + a,

    with equivariant 1x1 expansion :math:`W_e` and projection :math:`W_p`
    (:class:`~topoequi.nn.SteerableImageConv`), the depthwise 3x3 convolution :math:`\psi
    \circledast_G` of :class:`~topoequi.nn.conv.regular_depthwise_conv.RegularDepthwiseConv` (one
    filter per field, moved by every element), batch norm shared by the samples of a field and
    ReLU6 on the samples. A layer of :math:`c` channels of MobileNetV2 at width :math:`\alpha` has
    the same :math:`c` channels here (:math:`c / |G|` fields): the same activations and multiply-adds,
    :math:`|G|` times fewer weights in the 1x1 layers. The logits are invariant to :math:`G`.

    The strided layers are equivariant to the 90-degree rotations and flips only when they sample
    a symmetric set of pixels: an odd size at each of the 5 stride-2 layers, so ``input_size`` must
    be :math:`32 m + 1` (e.g. 33, 65, 97, 225).

    Args:
        group (Group or str, optional): ``"D4"``, ``"C4"``, ``"D2"``, ``"C2"``, ``"D1"``, ``"C1"``.
            (default: ``"D4"``)
        num_classes (int, optional): outputs. (default: ``1000``)
        width_mult (float, optional): width multiplier :math:`\alpha`. (default: ``1.0``)
        in_channels (int, optional): invariant image channels. (default: ``3``)
        input_size (int, optional): the side of the square images. (default: ``225``)
        dropout (float, optional): before the classifier. (default: ``0.2``)

    Shapes:
        - **input:** :math:`(B, C_{in}, S, S)`, :math:`S` = ``input_size``, or a batch with ``image``
        - **output:** :math:`(B, \text{num\_classes})`
    """

    def __init__(self, group: Group | str = "D4", num_classes: int = 1000, width_mult: float = 1.0,
                 in_channels: int = 3, input_size: int = 225, dropout: float = 0.2):
        super().__init__()
        group = group_from_name(group) if isinstance(group, str) else group
        if not isinstance(group, Group) or group.d != 2 or not group.is_finite or \
                (group.elements() - group.elements().round()).abs().max() > 1e-9:
            raise ValueError(f"EquivariantMobileNetV2: group must be a finite group of symmetries of the pixel "
                             f"grid (C1, C2, C4, D1, D2, D4), got {group}")
        if isinstance(input_size, bool) or not isinstance(input_size, int) or (input_size - 1) % DOWNSAMPLING:
            raise ValueError(f"EquivariantMobileNetV2: input_size must be {DOWNSAMPLING} m + 1 (33, 65, 97, 225, "
                             f"...) for the stride-2 layers to stay equivariant, got {input_size!r}")
        # the plain network of the same layout checks num_classes, in_channels, width_mult; exported into
        self._plain_args = {"num_classes": num_classes, "width_mult": width_mult, "in_channels": in_channels,
                            "dropout": dropout, "group_size": group.order}
        MobileNetV2(**self._plain_args)
        self.group, self.num_classes, self.width_mult = group, num_classes, width_mult
        self.in_channels, self.input_size = in_channels, input_size
        self.in_rep, self.out_rep = group.trivial_rep(in_channels), group.trivial_rep(num_classes)
        stem, blocks, last = mobilenet_v2_layout(width_mult, group.order)

        def fields(channels: int) -> Rep:
            return regular_field_rep(group, channels // group.order)

        layers = [nn.Sequential(*_conv_bn_relu6(SteerableImageConv(self.in_rep, fields(stem), 3, stride=2,
                                                                   bias=False)))]
        for c_in, c_out, stride, t in blocks:
            hidden = fields(c_in * t)
            expand = _conv_bn_relu6(SteerableImageConv(fields(c_in), hidden, 1, bias=False)) if t != 1 else []
            layers.append(InvertedResidual(
                expand + _conv_bn_relu6(RegularDepthwiseConv(hidden, 3, stride))
                + _conv_bn_relu6(SteerableImageConv(hidden, fields(c_out), 1, bias=False), relu=False),
                stride == 1 and c_in == c_out))
        layers.append(nn.Sequential(*_conv_bn_relu6(SteerableImageConv(fields(blocks[-1][1]), fields(last), 1,
                                                                       bias=False))))
        self.features = nn.Sequential(*layers)
        self.pool = GlobalPool(group.order)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last // group.order, num_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def forward(self, batch) -> Tensor:
        x = batch.image if hasattr(batch, "image") else batch
        if not isinstance(x, Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (self.in_channels, self.input_size,
                                                                                self.input_size):
            raise ValueError(f"EquivariantMobileNetV2: images must be [B, {self.in_channels}, {self.input_size}, "
                             f"{self.input_size}] (in_channels, input_size), got "
                             f"{list(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        return self.classifier(self.pool(self.features(x)))

    @torch.no_grad()
    def export(self) -> MobileNetV2:
        """The same network as a plain :class:`~topoequi.models.MobileNetV2` (``nn.Conv2d`` with the
        expanded filters, ``nn.BatchNorm2d`` with the field statistics repeated over the samples), in
        ``eval()``: equal logits, float weights of exactly the group's symmetry pattern up to rounding
        (:func:`topoequi.quantization.symmetrize_` makes it exact)."""
        plain = MobileNetV2(**self._plain_args)
        ref = next(self.parameters())
        plain.to(device=ref.device, dtype=ref.dtype)
        for source, target in zip(_leaves(self), _leaves(plain), strict=True):
            target.load_state_dict(_plain_layer(source).state_dict())
        return plain.eval()

    def __repr__(self) -> str:
        return (f"EquivariantMobileNetV2(group={self.group}, num_classes={self.num_classes}, "
                f"width_mult={self.width_mult}, in_channels={self.in_channels}, input_size={self.input_size}, "
                f"params={sum(p.numel() for p in self.parameters())})")


def _leaves(model: nn.Module) -> list[nn.Module]:
    stop = (SteerableImageConv, RegularDepthwiseConv, RegularBatchNorm)
    out: list[nn.Module] = []

    def walk(m: nn.Module) -> None:
        if isinstance(m, stop) or not list(m.children()):
            out.append(m)
        else:
            for child in m.children():
                walk(child)
    walk(model)
    return out


def _plain_layer(layer: nn.Module) -> nn.Module:
    if isinstance(layer, (SteerableImageConv, RegularDepthwiseConv)):
        return layer.export()
    if isinstance(layer, RegularBatchNorm):
        bn, n = nn.BatchNorm2d(layer.in_rep.dim, layer.norm.eps, layer.norm.momentum), layer.samples
        bn.load_state_dict({k: v.repeat_interleave(n) if v.dim() else v for k, v in layer.norm.state_dict().items()})
        return bn
    return layer
