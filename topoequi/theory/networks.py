"""The networks the bound holds for: bias-free steerable CNNs of permutation fields (regular, quotient,
invariant) with ReLU and max or average pooling."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Group, Rep, group_from_name, sampling_matrix

POOLINGS = ("average", "max")


def quotient_field_rep(group: Group, k: int) -> Rep:
    r"""One field of the quotient representation of :math:`C_N` on the cosets of :math:`C_k` (``k`` divides
    ``N``): the functions on :math:`C_N / C_k \cong C_{N/k}`, stored by their values at the first
    :math:`N/k` rotations, which the group permutes (so ReLU is exactly equivariant on them). Its irreps
    are the frequencies :math:`0, k, 2k, \dots \le N/2`, once each; ``k = 1`` is the regular field and
    ``k = N`` one invariant channel."""
    if group.d != 2 or not group.is_finite or group.name.startswith("D"):
        raise ValueError(f"quotient_field_rep: group must be C<N>, got {group}")
    if not isinstance(k, int) or k < 1 or group.order % k:
        raise ValueError(f"quotient_field_rep: k must divide the order {group.order} of {group}, got {k!r}")
    n = group.order // k
    regular = group.regular_rep()
    kept = [(psi, start) for psi, starts in regular.copy_offsets().items() for start in starts
            if psi.frequency % k == 0]
    columns = torch.cat([torch.arange(start, start + psi.dim) for psi, start in kept])
    a = sampling_matrix(regular, group.elements()[:n]).to(torch.float64)[:, columns]  # [n, dim]: coset values
    plain = Rep(group, [(psi, 1) for psi, _ in kept])
    return Rep(group, plain.irreps, a / a.norm(dim=0, keepdim=True))


def field_rep(group: Group, kind: str) -> Rep:
    """One field of ``kind``: ``"regular"``, ``"trivial"`` or ``"quotient<k>"`` (:func:`quotient_field_rep`)."""
    if kind == "regular":
        return regular_field_rep(group, 1)
    if kind == "trivial":
        return group.trivial_rep(1)
    if kind.startswith("quotient") and kind[8:].isdigit():
        return quotient_field_rep(group, int(kind[8:]))
    raise ValueError(f"field_rep: kind must be regular, trivial or quotient<k>, got {kind!r}")


def mixed_rep(group: Group, kinds: tuple[str, ...], copies: int) -> Rep:
    """``copies`` copies of the fields ``kinds`` (one of each, in order)."""
    one = field_rep(group, kinds[0])
    for kind in kinds[1:]:
        one = one + field_rep(group, kind)
    return one.repeat(copies)


class FieldPooling(nn.Module):
    r"""Invariant pooling of permutation fields stored by their samples: the maximum over each field's
    samples (``sizes``, one entry a field, in channel order). 1-Lipschitz and positively homogeneous;
    on regular fields it is :class:`~topoequi.nn.GroupPooling`."""

    def __init__(self, sizes: tuple[int, ...]):
        super().__init__()
        self.sizes = tuple(int(s) for s in sizes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != sum(self.sizes):
            raise ValueError(f"FieldPooling: x must be [B, {sum(self.sizes)}, ...], got {list(x.shape)}")
        return torch.stack([part.amax(1) for part in x.split(self.sizes, 1)], 1)

    def extra_repr(self) -> str:
        return f"fields={len(self.sizes)}"


def homogeneous_cnn(group: str, channels: tuple[int, ...], kernel_size: int = 5, num_classes: int = 10,
                    pool_after: tuple[int, ...] = (0, 1), pooling: str = "average",
                    fields: tuple[str, ...] = ("regular",)) -> nn.Sequential:
    r"""A positively homogeneous steerable CNN for a finite planar group (``"C1"`` is the plain CNN):

    .. math::
        x \mapsto W_{L} \operatorname{pool}_p \max_g \sigma(K_{L-1} \star \cdots \sigma(K_1 \star x)),

    bias-free :class:`~topoequi.nn.SteerableImageConv` layers on ``channels[i]`` copies of the fields
    ``fields`` (permutation fields, on which ReLU is equivariant), ReLU, 2x2 pooling after the blocks in
    ``pool_after``, the maximum over each field's samples (group pooling), a spatial mean
    (``pooling="average"``: 2x2 average pooling) or maximum (``"max"``: 2x2 max pooling) and a bias-free
    linear classifier. Its logits are invariant to the group's symmetries of the grid.

    Args:
        group (str): ``"C<N>"`` or ``"D<N>"``.
        channels (tuple of int): copies of ``fields`` per convolution.
        kernel_size (int, optional): stencil width. (default: ``5``)
        num_classes (int, optional): outputs. (default: ``10``)
        pool_after (tuple of int, optional): blocks followed by 2x2 pooling. (default: ``(0, 1)``)
        pooling (str, optional): ``"average"`` or ``"max"``. (default: ``"average"``)
        fields (tuple of str, optional): the field kinds of :func:`field_rep`. (default: ``("regular",)``)

    Shapes:
        - **input:** :math:`(B, 1, H, W)`
        - **output:** :math:`(B, \text{num\_classes})`
    """
    g = group_from_name(group)
    if g.d != 2 or not g.is_finite:
        raise ValueError(f"homogeneous_cnn: group must be C<N> or D<N>, got {group}")
    if not channels or any(not isinstance(c, int) or c < 1 for c in channels):
        raise ValueError(f"homogeneous_cnn: channels must be positive ints, got {channels!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"homogeneous_cnn: pooling must be one of {POOLINGS}, got {pooling!r}")
    if not fields:
        raise ValueError("homogeneous_cnn: fields must name at least one field kind")
    regular = tuple(fields) == ("regular",)
    local, spatial = (nn.MaxPool2d, nn.AdaptiveMaxPool2d) if pooling == "max" else (nn.AvgPool2d, nn.AdaptiveAvgPool2d)
    rep, layers = g.trivial_rep(1), []
    for i, c in enumerate(channels):
        out = regular_field_rep(g, c) if regular else mixed_rep(g, tuple(fields), c)
        layers += [SteerableImageConv(rep, out, kernel_size, bias=False), nn.ReLU()]
        layers += [local(2)] if i in pool_after else []
        rep = out
    sizes = [field_rep(g, kind).dim for kind in fields] * channels[-1]
    layers += [GroupPooling(rep) if regular else FieldPooling(tuple(sizes)), spatial(1), nn.Flatten(),
               nn.Linear(len(sizes), num_classes, False)]
    return nn.Sequential(*layers)


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matched_channels(group: str, target: int, kernel_size: int = 5, num_classes: int = 10, max_fields: int = 64,
                     fields: tuple[str, ...] = ("regular",)) -> tuple[int, int, int]:
    """Copies ``(c1, c2, c2)`` (``c1 <= c2 <= 3 c1``) of ``fields`` whose three-block :func:`homogeneous_cnn`
    has the parameter count closest to ``target``. Counts are exact and cheap: a convolution between
    ``c_in`` and ``c_out`` copies of the fields has ``c_in c_out`` times the weights of one copy to one."""
    g = group_from_name(group)
    one = mixed_rep(g, tuple(fields), 1)
    first = num_parameters(SteerableImageConv(g.trivial_rep(1), one, kernel_size, bias=False))
    inner = num_parameters(SteerableImageConv(one, one, kernel_size, bias=False))

    def count(c1: int, c2: int) -> int:
        return c1 * first + (c1 * c2 + c2 * c2) * inner + c2 * len(fields) * num_classes

    options = [(c1, c2) for c1 in range(1, max_fields + 1) for c2 in range(c1, 3 * c1 + 1)]
    c1, c2 = min(options, key=lambda c: (abs(count(*c) - target), c))
    return c1, c2, c2
