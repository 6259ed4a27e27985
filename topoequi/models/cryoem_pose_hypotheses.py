r"""Several pose hypotheses per image from one encoder trunk, each exactly equivariant."""
from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from topoequi.cryoem.rotations import cube_rotations, gram_schmidt
from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder

GRIDS = {"none": None, "cube": cube_rotations}


class PoseHypothesisEncoder(nn.Module):
    r"""``heads`` pose heads on the trunk of a :class:`~topoequi.models.cryoem_pose_encoder.CryoPoseEncoder`,
    each followed by the fixed right factors of ``grid``:

    .. math::
        (a_1, a_2, t)_k = W_k \operatorname{mean}_p f_L(p), \quad
        R_{k g} = \mathrm{GS}(a_1, a_2)_k\, g, \quad t_{k g} = t_k,

    for :math:`k = 1..K` and :math:`g` in the grid (``"cube"``: its 24 rotations; ``"none"``: the identity).
    Head 1 is the encoder's own head, the others fresh copies of it. Each :math:`W_k` is equivariant
    into :func:`~topoequi.models.cryoem_pose_encoder.pose_rep`, and right factors commute with the
    left action, so every hypothesis keeps :math:`R(h \cdot I) = \rho(h) R(I)`; the grid spreads the
    hypotheses' viewing directions :math:`v_{kg} = g^\top v_k` over the sphere. Trained with the best
    (or a soft minimum) of the hypotheses' losses, the multiple-choice remedy of amortized pose inference
    (cryoSPIN, `Shekarforoush et al. 2024 <https://arxiv.org/abs/2406.10455>`_).

    Args:
        encoder (CryoPoseEncoder): trunk and first head.
        heads (int, optional): :math:`K`. (default: ``1``)
        grid (str, optional): ``"none"`` or ``"cube"``. (default: ``"none"``)

    Shapes:
        - **input:** images :math:`(B, 1, N, N)`
        - **output:** rotations :math:`(B, H, 3, 3)` and shifts :math:`(B, H, 2)`, :math:`H = K |G|`
          (hypothesis :math:`k |G| + g`)
    """

    def __init__(self, encoder: CryoPoseEncoder, heads: int = 1, grid: str = "none"):
        super().__init__()
        if not isinstance(encoder, CryoPoseEncoder):
            raise TypeError(f"PoseHypothesisEncoder: encoder must be a CryoPoseEncoder, got {type(encoder).__name__}")
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1:
            raise ValueError(f"PoseHypothesisEncoder: heads must be an int >= 1, got {heads!r}")
        if grid not in GRIDS:
            raise ValueError(f"PoseHypothesisEncoder: grid must be one of {sorted(GRIDS)}, got {grid!r}")
        self.encoder, self.grid_name = encoder, grid
        self.heads = nn.ModuleList([encoder.head, *(copy.deepcopy(encoder.head) for _ in range(heads - 1))])
        self.register_buffer("grid", torch.eye(3)[None] if GRIDS[grid] is None else GRIDS[grid](torch.float32))
        for head in self.heads[1:]:  # the trunk and the first head keep the encoder's weights
            head.reset_parameters()

    @property
    def num_hypotheses(self) -> int:
        return len(self.heads) * len(self.grid)

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        for head in self.heads[1:]:
            head.reset_parameters()

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encoder.pooled(images)
        out = torch.stack([head(z) for head in self.heads], 1)
        rotations = gram_schmidt(out[..., :6].unflatten(-1, (2, 3)).transpose(-1, -2))
        grid = self.grid.to(rotations.dtype)
        return (rotations[:, :, None] @ grid).flatten(1, 2), out[..., 6:].repeat_interleave(len(grid), 1)

    def __repr__(self) -> str:
        return f"PoseHypothesisEncoder({self.encoder}, heads={len(self.heads)}, grid={self.grid_name!r})"
