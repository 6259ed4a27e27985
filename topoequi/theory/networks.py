"""The networks the bound holds for: bias-free steerable CNNs of regular fields with ReLU."""
from __future__ import annotations

from torch import nn

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import group_from_name


def homogeneous_cnn(group: str, channels: tuple[int, ...], kernel_size: int = 5, num_classes: int = 10,
                    pool_after: tuple[int, ...] = (0, 1)) -> nn.Sequential:
    r"""A positively homogeneous steerable CNN for a finite planar group (``"C1"`` is the plain CNN):

    .. math::
        x \mapsto W_{L} \operatorname{mean}_p \max_g \sigma(K_{L-1} \star \cdots \sigma(K_1 \star x)),

    bias-free :class:`~topoequi.nn.SteerableImageConv` layers on ``channels[i]`` regular fields,
    ReLU, 2x2 average pooling after the blocks in ``pool_after``, group pooling, spatial mean and
    a bias-free linear classifier. Its logits are invariant to the group's symmetries of the grid.

    Args:
        group (str): ``"C<N>"`` or ``"D<N>"``.
        channels (tuple of int): regular fields per convolution.
        kernel_size (int, optional): stencil width. (default: ``5``)
        num_classes (int, optional): outputs. (default: ``10``)
        pool_after (tuple of int, optional): blocks followed by 2x2 average pooling. (default: ``(0, 1)``)

    Shapes:
        - **input:** :math:`(B, 1, H, W)`
        - **output:** :math:`(B, \text{num\_classes})`
    """
    g = group_from_name(group)
    if g.d != 2 or not g.is_finite:
        raise ValueError(f"homogeneous_cnn: group must be C<N> or D<N>, got {group}")
    if not channels or any(not isinstance(c, int) or c < 1 for c in channels):
        raise ValueError(f"homogeneous_cnn: channels must be positive ints, got {channels!r}")
    rep, layers = g.trivial_rep(1), []
    for i, c in enumerate(channels):
        out = regular_field_rep(g, c)
        layers += [SteerableImageConv(rep, out, kernel_size, bias=False), nn.ReLU()]
        layers += [nn.AvgPool2d(2)] if i in pool_after else []
        rep = out
    layers += [GroupPooling(rep), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels[-1], num_classes, False)]
    return nn.Sequential(*layers)


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matched_channels(group: str, target: int, kernel_size: int = 5, num_classes: int = 10,
                     max_fields: int = 64) -> tuple[int, int, int]:
    """Fields ``(c1, c2, c2)`` (``c1 <= c2 <= 3 c1``) whose three-block :func:`homogeneous_cnn` has the
    parameter count closest to ``target``. Counts are exact and cheap: a convolution between regular
    fields has ``c_in c_out`` times the weights of one field to one field."""
    g = group_from_name(group)
    one = regular_field_rep(g, 1)
    first = num_parameters(SteerableImageConv(g.trivial_rep(1), one, kernel_size, bias=False))
    inner = num_parameters(SteerableImageConv(one, one, kernel_size, bias=False))

    def count(c1: int, c2: int) -> int:
        return c1 * first + (c1 * c2 + c2 * c2) * inner + c2 * num_classes

    options = [(c1, c2) for c1 in range(1, max_fields + 1) for c2 in range(c1, 3 * c1 + 1)]
    c1, c2 = min(options, key=lambda c: (abs(count(*c) - target), c))
    return c1, c2, c2
