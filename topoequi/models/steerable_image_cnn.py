"""Image classifiers: E(2)-steerable CNNs for C_N, D_N, SO(2), O(2) and the plain CNN baseline."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from topoequi.models.parameter_matching import match_scale
from topoequi.nn.batch_norm import EquivariantBatchNorm
from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.fourier_nonlinearity import FourierNonlinearity
from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.pixelwise import Pixelwise
from topoequi.nn.regular_fields import RegularBatchNorm, regular_field_rep
from topoequi.symmetry import Group, Rep, group_from_name


def fourier_samples(group: Group, max_frequency: int) -> int:
    """Uniform samples of SO(2) / O(2) for band limit ``L``: a multiple of 4 rotations (exact on the
    symmetries of the grid) at least ``2 L + 1``, times 2 with reflections."""
    return 4 * math.ceil((2 * max_frequency + 1) / 4) * (2 if group.has_reflections else 1)


def field_block(group: Group | None, in_rep: Rep | int, channels: int, kernel_size: int,
                max_frequency: int) -> tuple[list[nn.Module], Rep | int]:
    """Convolution, batch norm and nonlinearity producing ``channels`` fields: regular fields in the
    sample basis with ReLU for a finite group, band-limited regular fields with a Fourier ReLU for
    SO(2) / O(2) (:func:`fourier_samples`), plain channels when ``group`` is ``None``."""
    if group is None:
        return [nn.Conv2d(in_rep, channels, kernel_size, padding=kernel_size // 2),
                nn.BatchNorm2d(channels), nn.ReLU()], channels
    if group.is_finite:
        rep = regular_field_rep(group, channels)
        return [SteerableImageConv(in_rep, rep, kernel_size), RegularBatchNorm(rep), nn.ReLU()], rep
    rep = group.regular_rep(max_frequency).repeat(channels)
    return [SteerableImageConv(in_rep, rep, kernel_size), Pixelwise(EquivariantBatchNorm(rep)),
            Pixelwise(FourierNonlinearity(rep, "relu", samples=fourier_samples(group, max_frequency)))], rep


class SteerableImageCNN(nn.Module):
    r"""An image classifier of steerable convolutions, as in the rotated-MNIST models of
    `"General E(2)-Equivariant Steerable CNNs" <https://arxiv.org/abs/1911.08251>`_:

    .. math::
        \text{logits} = \mathrm{MLP}\Big(\operatorname{mean}_p \max_{g} f_L(p)(g)\Big),
        \quad f_{l} = \sigma\big(\mathrm{BN}(K_l \star f_{l-1})\big),

    ``len(channels)`` blocks of a :class:`~topoequi.nn.SteerableImageConv`, batch norm and a
    nonlinearity on regular fields (pointwise ReLU on the group samples for :math:`C_N, D_N`,
    a Fourier ReLU on band-limited fields for SO(2), O(2)), 2x2 average pooling after
    ``pool_after``, group pooling, spatial mean and a two-layer MLP. The logits are invariant
    to the group's symmetries of the grid. ``group=None`` is the plain CNN of the same shape.

    Args:
        group (Group or str, optional): ``"C8"``, ``"D4"``, ``"SO(2)"``, ... or ``None``.
        channels (tuple of int): fields (channels for the plain CNN) per block.
        kernel_sizes (tuple of int, optional): per block; the last one repeats. (default: ``(5, 3)``)
        pool_after (tuple of int, optional): blocks followed by 2x2 pooling. (default: ``(0, 2)``)
        max_frequency (int, optional): band limit of SO(2) / O(2) fields. (default: ``2``)
        num_classes (int, optional): outputs. (default: ``10``)
        hidden (int, optional): width of the MLP. (default: ``64``)
        in_channels (int, optional): invariant input channels. (default: ``1``)

    Shapes:
        - **input:** images :math:`(B, C_{in}, H, W)` or a batch with ``image``
        - **output:** :math:`(B, \text{num\_classes})`
    """

    def __init__(self, group: Group | str | None, channels: tuple[int, ...] = (8, 16, 16, 32),
                 kernel_sizes: tuple[int, ...] = (5, 3), pool_after: tuple[int, ...] = (0, 2),
                 max_frequency: int = 2, num_classes: int = 10, hidden: int = 64, in_channels: int = 1):
        super().__init__()
        group = group_from_name(group) if isinstance(group, str) else group
        if group is not None and (not isinstance(group, Group) or group.d != 2):
            raise ValueError(f"SteerableImageCNN: group must be a planar group (C_N, D_N, SO(2), O(2)) or None, "
                             f"got {group}")
        if not channels or any(not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f"SteerableImageCNN: channels must be positive ints, got {channels!r}")
        self.group, self.channels = group, tuple(channels)
        rep: Rep | int = in_channels if group is None else group.trivial_rep(in_channels)
        layers: list[nn.Module] = []
        for i, c in enumerate(channels):
            k = kernel_sizes[min(i, len(kernel_sizes) - 1)]
            block, rep = field_block(group, rep, c, k, max_frequency)
            layers += block + ([nn.AvgPool2d(2)] if i in pool_after else [])
        if group is not None:
            layers.append(GroupPooling(rep, None if group.is_finite else fourier_samples(group, max_frequency)))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(channels[-1], hidden), nn.BatchNorm1d(hidden), nn.ELU(),
                                  nn.Linear(hidden, num_classes))

    def forward(self, batch) -> Tensor:
        x = batch.image if hasattr(batch, "image") else batch
        return self.head(self.features(x).mean((-2, -1)))

    def __repr__(self) -> str:
        return f"SteerableImageCNN(group={self.group}, channels={self.channels}, params={num_parameters(self)})"


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matching_plain_cnn(model: SteerableImageCNN, **kwargs) -> SteerableImageCNN:
    """The plain CNN (``group=None``) of the same shape whose parameter count is closest to ``model``'s:
    its channels are ``model.channels`` times one common factor, found by bisection."""
    target = num_parameters(model)

    def build(scale: float) -> SteerableImageCNN:
        return SteerableImageCNN(None, tuple(max(1, round(c * scale)) for c in model.channels), **kwargs)

    return build(match_scale(lambda scale: num_parameters(build(scale)), target))


@torch.no_grad()
def export_plain(model: nn.Module) -> nn.Module:
    """``model`` with every :class:`SteerableImageConv` replaced by its exported ``nn.Conv2d``
    (same outputs in ``eval()``; for deployment)."""
    for name, child in model.named_children():
        if isinstance(child, SteerableImageConv):
            setattr(model, name, child.export())
        else:
            export_plain(child)
    return model
