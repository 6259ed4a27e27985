"""MobileNetV2, plain: the baseline of the equivariant MobileNetV2 and the form it exports to."""
from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn
from torch.ao.nn.quantized import FloatFunctional

from topoequi.models.parameter_matching import match_scale

# (expansion t, channels c, repeats n, stride s) of each stage, Table 2 of the MobileNetV2 paper
INVERTED_RESIDUAL_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                             (6, 160, 3, 2), (6, 320, 1, 1))
STEM_CHANNELS, LAST_CHANNELS = 32, 1280
DOWNSAMPLING = 2 ** (1 + sum(s == 2 for *_, s in INVERTED_RESIDUAL_SETTING))  # 32


def make_divisible(value: float, divisor: int) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never below ``divisor`` nor 10% below
    ``value`` (the channel rounding of MobileNetV2)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def mobilenet_v2_layout(width_mult: float, divisor: int = 8) -> tuple[int, list[tuple[int, int, int, int]], int]:
    """Channels of MobileNetV2 at ``width_mult``: ``(stem, [(in, out, stride, t), ...], last)``."""
    if not isinstance(width_mult, (int, float)) or not width_mult > 0 or not math.isfinite(width_mult):
        raise ValueError(f"MobileNetV2: width_mult must be a positive number, got {width_mult!r}")
    stem = channels = make_divisible(STEM_CHANNELS * width_mult, divisor)
    blocks = []
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        out = make_divisible(c * width_mult, divisor)
        for i in range(n):
            blocks.append((channels, out, s if i == 0 else 1, t))
            channels = out
    return stem, blocks, make_divisible(LAST_CHANNELS * max(1.0, width_mult), divisor)


class InvertedResidual(nn.Module):
    r"""An inverted residual block: expansion, depthwise convolution, linear projection, and the skip
    connection :math:`x + F(x)` when the shape is kept (an add that quantizes).

    Args:
        layers (list of nn.Module): the layers of :math:`F`.
        residual (bool): add the input.
    """

    def __init__(self, layers: list[nn.Module], residual: bool):
        super().__init__()
        self.conv, self.residual = nn.Sequential(*layers), residual
        self.skip_add = FloatFunctional() if residual else None

    def forward(self, x: Tensor) -> Tensor:
        return self.skip_add.add(x, self.conv(x)) if self.skip_add is not None else self.conv(x)


class GlobalPool(nn.Module):
    r"""Group pooling then global average pooling, :math:`y_c = \operatorname{mean}_p \max_s x_{c n + s}(p)`
    over ``group_size`` consecutive channels (the samples of a regular field; ``1``: plain average
    pooling). It runs on float and quantized tensors alike.

    Shapes:
        - **input:** :math:`(B, C n, H, W)`
        - **output:** :math:`(B, C)`
    """

    def __init__(self, group_size: int = 1):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        if self.group_size > 1:
            x = F.max_pool2d(x.reshape(b, c // self.group_size, self.group_size, h * w), (self.group_size, 1))
        return F.adaptive_avg_pool2d(x, 1).flatten(1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"


def conv_bn_relu6(in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1, groups: int = 1,
                  relu: bool = True) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                      bias=False), nn.BatchNorm2d(out_channels)] + ([nn.ReLU6()] if relu else [])


class MobileNetV2(nn.Module):
    r"""MobileNetV2 from `"MobileNetV2: Inverted Residuals and Linear Bottlenecks"
    <https://arxiv.org/abs/1801.04381>`_ (Sandler et al., CVPR 2018), the architecture of
    torchvision's ``mobilenet_v2`` (3,504,872 parameters at width 1 and 1,000 classes):

    .. math::
        x \mapsto x + \mathrm{BN}\big(W_p\, \mathrm{ReLU6}(\mathrm{BN}(\psi \circledast
        \mathrm{ReLU6}(\mathrm{BN}(W_e\, x))))\big),

    stem (3x3, stride 2), 17 inverted residual blocks (expansion :math:`W_e`, depthwise 3x3
    :math:`\psi`, linear projection :math:`W_p`; the skip when the shape is kept), a 1x1 convolution
    to 1,280 channels, global pooling, dropout and a linear classifier. ``group_size > 1`` is the
    exported form of :class:`~topoequi.models.EquivariantMobileNetV2` (channels in multiples of
    the group order, group pooling before the classifier).

    Args:
        num_classes (int, optional): outputs. (default: ``1000``)
        width_mult (float, optional): width multiplier :math:`\alpha` of every layer but the last
            (kept at 1,280 for :math:`\alpha \le 1`). (default: ``1.0``)
        in_channels (int, optional): image channels. (default: ``3``)
        dropout (float, optional): before the classifier. (default: ``0.2``)
        group_size (int, optional): channels are rounded to multiples of it and max-pooled in groups
            of it before the classifier. (default: ``1``: plain, rounding to multiples of 8)

    Shapes:
        - **input:** :math:`(B, C_{in}, H, W)` or a batch with ``image``
        - **output:** :math:`(B, \text{num\_classes})`
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, in_channels: int = 3,
                 dropout: float = 0.2, group_size: int = 1):
        super().__init__()
        for arg, value in (("num_classes", num_classes), ("in_channels", in_channels), ("group_size", group_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MobileNetV2: {arg} must be a positive int, got {value!r}")
        self.num_classes, self.width_mult, self.in_channels = num_classes, width_mult, in_channels
        self.group_size = group_size
        stem, blocks, last = mobilenet_v2_layout(width_mult, 8 if group_size == 1 else group_size)
        layers = [nn.Sequential(*conv_bn_relu6(in_channels, stem, 3, 2))]
        for c_in, c_out, stride, t in blocks:
            hidden = c_in * t
            expand = conv_bn_relu6(c_in, hidden) if t != 1 else []
            layers.append(InvertedResidual(expand + conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden)
                                           + conv_bn_relu6(hidden, c_out, relu=False),
                                           stride == 1 and c_in == c_out))
        layers.append(nn.Sequential(*conv_bn_relu6(blocks[-1][1], last)))
        self.features = nn.Sequential(*layers)
        self.pool = GlobalPool(group_size)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last // group_size, num_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's initialization: Kaiming (fan out) convolutions, unit batch norms, N(0, 0.01) linear."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, batch) -> Tensor:
        x = batch.image if hasattr(batch, "image") else batch
        return self.classifier(self.pool(self.features(x)))

    def __repr__(self) -> str:
        return (f"MobileNetV2(num_classes={self.num_classes}, width_mult={self.width_mult}, "
                f"in_channels={self.in_channels}, group_size={self.group_size}, "
                f"params={sum(p.numel() for p in self.parameters())})")


def mobilenet_v2_parameters(num_classes: int, width_mult: float, in_channels: int) -> int:
    """The parameter count of the plain :class:`MobileNetV2`, from its layout (weights and batch norms)."""
    stem, blocks, last = mobilenet_v2_layout(width_mult)
    count = in_channels * stem * 9 + 2 * stem + blocks[-1][1] * last + 2 * last + (last + 1) * num_classes
    for c_in, c_out, _, t in blocks:
        hidden = c_in * t
        count += (c_in * hidden + 2 * hidden if t != 1 else 0) + 11 * hidden + hidden * c_out + 2 * c_out
    return count


def matching_plain_mobilenet_v2(model: nn.Module) -> MobileNetV2:
    """The plain :class:`MobileNetV2` (same classes and input channels) whose width multiplier gives the
    parameter count closest to ``model``'s (bisection; channels are rounded to multiples of 8)."""
    target = sum(p.numel() for p in model.parameters())

    def count(width: float) -> int:
        return mobilenet_v2_parameters(model.num_classes, width, model.in_channels)

    return MobileNetV2(model.num_classes, match_scale(count, target, low=0.01, high=8.0), model.in_channels)
