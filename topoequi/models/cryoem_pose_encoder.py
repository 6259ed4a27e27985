r"""Pose encoders for amortized cryo-EM: a :math:`D_4`-equivariant CNN and its plain counterpart."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from topoequi.cryoem.rotations import gram_schmidt
from topoequi.models.parameter_matching import match_scale
from topoequi.models.steerable_image_cnn import field_block, num_parameters
from topoequi.nn.linear import EquivariantLinear
from topoequi.symmetry import Group, Rep, group_from_name


def pose_rep(group: Group) -> Rep:
    r"""The output representation of :math:`D_4` (or a subgroup of :math:`O(2)`): two vectors of
    :math:`\mathbb{R}^3` under :math:`\rho(g) = \mathrm{diag}(g, \det g)` and the in-plane shift under
    :math:`g`. A 90-degree image rotation is the rotation about the viewing axis; the mirror
    :math:`y \mapsto -y` is :math:`\mathrm{diag}(1, -1, -1)`, the 180-degree rotation about :math:`x`
    (projection cannot see :math:`z \mapsto -z`), so :math:`\rho(g) \in SO(3)`."""
    irreps = {psi.label: psi for psi, _ in group.regular_rep().irreps}
    vector, det = irreps["1"], irreps["0o"]
    return Rep(group, [vector, det, vector, det, vector])


class CryoPoseEncoder(nn.Module):
    r"""Image to pose and shift, after `"Equivariant Amortized Inference of Poses for Cryo-EM"
    <https://arxiv.org/abs/2406.01630>`_ (de Ruijter & Cesa, 2024):

    .. math::
        (a_1, a_2, t) = W\, \operatorname{mean}_p f_L(p), \quad f_l = \sigma(\mathrm{BN}(K_l \star f_{l-1})),
        \quad R = \mathrm{GS}(a_1, a_2),

    blocks of convolution, batch norm and ReLU, 2x2 average pooling after each of ``pool_after``,
    a spatial mean and a linear head. With ``group="D4"`` the fields are regular :math:`D_4` fields
    (:class:`~topoequi.nn.SteerableImageConv`), the head is equivariant into :func:`pose_rep`, and the
    encoder is exactly equivariant: :math:`R(g \cdot I) = \rho(g) R(I)`, :math:`t(g \cdot I) = g\, t(I)`.
    ``group=None`` is the plain CNN of the same shape (cryoAI's encoder stand-in).

    Args:
        group (str or Group, optional): ``"D4"`` (or another finite planar group with reflections) or ``None``.
        channels (tuple of int): fields (plain: channels) per block. (default: ``(8, 8, 16, 16)``)
        kernel_size (int, optional): stencil width. (default: ``5``)
        pool_after (tuple of int, optional): blocks followed by 2x2 average pooling. (default: ``(0, 1, 2)``)

    Shapes:
        - **input:** images :math:`(B, 1, N, N)`, :math:`N` divisible by :math:`2^{|pool\_after|}`
        - **output:** rotations :math:`(B, 3, 3)` and shifts :math:`(B, 2)` (pixels, :math:`(t_x, t_y)`)
    """

    def __init__(self, group: Group | str | None = "D4", channels: tuple[int, ...] = (8, 8, 16, 16),
                 kernel_size: int = 5, pool_after: tuple[int, ...] = (0, 1, 2)):
        super().__init__()
        group = group_from_name(group) if isinstance(group, str) else group
        if group is not None and not (isinstance(group, Group) and group.d == 2 and group.is_finite
                                      and group.has_reflections):
            raise ValueError(f"CryoPoseEncoder: group must be a finite planar group with reflections (D4) or None, "
                             f"got {group}")
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f"CryoPoseEncoder: channels must be positive ints, got {channels!r}")
        self.group, self.channels, self.kernel_size = group, tuple(channels), kernel_size
        self.pool_after = tuple(pool_after)
        rep: Rep | int = 1 if group is None else group.trivial_rep(1)
        layers: list[nn.Module] = []
        for i, c in enumerate(channels):
            block, rep = field_block(group, rep, c, kernel_size, 0)
            layers += block + ([nn.AvgPool2d(2)] if i in self.pool_after else [])
        self.features = nn.Sequential(*layers)
        self.in_rep = None if group is None else group.trivial_rep(1)
        self.out_rep = None if group is None else pose_rep(group)
        self.head = nn.Linear(rep, 8) if group is None else EquivariantLinear(rep, self.out_rep)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def pooled(self, images: Tensor) -> Tensor:
        """The spatial mean of the last block's fields, ``[B, C]`` (what the head reads)."""
        if images.dim() != 4 or images.shape[1] != 1 or images.shape[-1] != images.shape[-2]:
            raise ValueError(f"CryoPoseEncoder: images must be [B, 1, N, N], got {list(images.shape)}")
        multiple = 2 ** len(self.pool_after)
        if images.shape[-1] % multiple:
            raise ValueError(f"CryoPoseEncoder: the image size must be divisible by {multiple} (exact pooling), "
                             f"got {images.shape[-1]}")
        return self.features(images).mean((-2, -1))

    def raw(self, images: Tensor) -> Tensor:
        """The head's output ``[B, 8]`` (:math:`a_1, a_2, t`; in :func:`pose_rep` for ``D4``)."""
        return self.head(self.pooled(images))

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        out = self.raw(images)
        return gram_schmidt(out[:, :6].view(-1, 2, 3).transpose(1, 2)), out[:, 6:]

    def __repr__(self) -> str:
        return (f"CryoPoseEncoder(group={self.group}, channels={self.channels}, kernel_size={self.kernel_size}, "
                f"params={num_parameters(self)})")


def matching_plain_encoder(model: CryoPoseEncoder) -> CryoPoseEncoder:
    """The plain encoder (``group=None``) of the same shape whose parameter count is closest to ``model``'s:
    its channels are ``model.channels`` times one common factor, found by bisection."""
    target = num_parameters(model)

    def build(scale: float) -> CryoPoseEncoder:
        return CryoPoseEncoder(None, tuple(max(1, round(c * scale)) for c in model.channels),
                               model.kernel_size, model.pool_after)

    return build(match_scale(lambda scale: num_parameters(build(scale)), target, steps=30))


def in_plane_rotation(turns: Tensor | float, dtype: torch.dtype = torch.float64) -> Tensor:
    r"""The rotation ``[3, 3]`` about the viewing axis by ``turns`` quarter turns (:math:`\rho` of a grid rotation)."""
    angle = torch.as_tensor(turns, dtype=dtype) * (math.pi / 2)
    c, s = torch.cos(angle), torch.sin(angle)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([torch.stack([c, -s, zero]), torch.stack([s, c, zero]), torch.stack([zero, zero, one])])
