"""Invariant projection: every irrep copy to one invariant (itself if trivial, else its norm)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.nn.linear import split_entries
from topoequi.symmetry import Rep


class InvariantProjection(nn.Module):
    r"""Maps a field of any representation to invariants, one per irrep copy :math:`v_c`:

    .. math::
        y_c = v_c \text{ if } v_c \text{ is invariant, else } \sqrt{\|v_c\|^2 + \epsilon^2} - \epsilon,

    (norm pooling; smooth at zero). Works on ``[N, dim]`` features; wrap it in
    :class:`~topoequi.nn.pixelwise.Pixelwise` for images.

    Args:
        rep (Rep): the input representation (any basis).
        eps (float, optional): smoothing of the norm. (default: ``1e-6``)

    Shapes:
        - **input:** :math:`(*, \dim \rho)`
        - **output:** :math:`(*, C)`, ``C`` the number of irrep copies
    """

    def __init__(self, rep: Rep, eps: float = 1e-6):
        super().__init__()
        self.in_rep, self.eps = rep, eps
        self.irreps_rep = Rep(rep.group, rep.irreps)
        self.out_rep = rep.group.trivial_rep(sum(m for _, m in rep.irreps))

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "InvariantProjection: x")
        pieces = []
        for (psi, _), v in zip(self.irreps_rep.irreps, split_entries(self.in_rep.to_irreps_basis(x),
                                                                      self.irreps_rep)):
            if psi.is_trivial:
                pieces.append(v[..., 0])
            else:
                pieces.append(torch.sqrt((v * v).sum(-1) + self.eps**2) - self.eps)
        return torch.cat(pieces, -1)
