"""Equivariant batch normalization."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.nn.linear import split_entries
from topoequi.symmetry import Rep


class EquivariantBatchNorm(nn.Module):
    r"""Batch normalization that commutes with the group action.

    Invariant features are normalized as in ``BatchNorm1d``. Every other irrep
    copy :math:`v_c` is divided by the root mean square of its norm over the
    batch (no centering, which would break equivariance) and scaled by a learned
    :math:`\gamma_c`:

    .. math::
        v_c \mapsto \gamma_c\, v_c / \sqrt{\mathbb{E}\,\|v_c\|^2 / d + \epsilon}.

    Args:
        rep (Rep): the representation, in the irreps basis.
        momentum (float, optional): running-statistics momentum. (default: ``0.1``)
        eps (float, optional): added to the variances. (default: ``1e-5``)

    Shapes:
        - **input:** :math:`(N, \dim \rho)`
        - **output:** :math:`(N, \dim \rho)`
    """

    def __init__(self, rep: Rep, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if rep.change_of_basis is not None:
            raise ValueError("EquivariantBatchNorm: rep must be in the irreps basis (no change of basis)")
        self.in_rep = self.out_rep = rep
        self.momentum, self.eps = momentum, eps
        self.trivial = rep.group.trivial_irrep
        n_scalar = sum(m for psi, _, m in rep.entries() if psi == self.trivial)
        n_vector = sum(m for psi, _, m in rep.entries() if psi != self.trivial)
        self.scalar_weight = nn.Parameter(torch.empty(n_scalar))
        self.scalar_bias = nn.Parameter(torch.empty(n_scalar))
        self.vector_weight = nn.Parameter(torch.empty(n_vector))
        self.register_buffer("running_mean", torch.empty(n_scalar))
        self.register_buffer("running_var", torch.empty(n_scalar))
        self.register_buffer("running_sq", torch.empty(n_vector))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for p, value in ((self.scalar_weight, 1.0), (self.scalar_bias, 0.0), (self.vector_weight, 1.0)):
            nn.init.constant_(p, value)
        self.running_mean.zero_()
        self.running_var.fill_(1.0)
        self.running_sq.fill_(1.0)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_rep}, momentum={self.momentum}, eps={self.eps})"

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "EquivariantBatchNorm: x")
        if x.dim() != 2:
            raise ValueError(f"EquivariantBatchNorm: x must be [N, {self.in_rep.dim}], got {list(x.shape)}")
        if x.shape[0] == 0:
            return x
        if x.dtype in (torch.bfloat16, torch.float16):  # statistics in float32 under mixed precision
            x = x.float()
        use_batch = self.training and x.shape[0] > 1
        pieces, s, v = [], 0, 0
        for (psi, _, m), vec in zip(self.in_rep.entries(), split_entries(x, self.in_rep)):
            if psi == self.trivial:
                pieces.append(nn.functional.batch_norm(
                    vec.flatten(-2), self.running_mean[s:s + m], self.running_var[s:s + m],
                    self.scalar_weight[s:s + m].to(x.dtype), self.scalar_bias[s:s + m].to(x.dtype),
                    use_batch, self.momentum, self.eps))
                s += m
                continue
            if use_batch:
                sq = (vec * vec).mean(dim=(0, 2))
                with torch.no_grad():
                    self.running_sq[v:v + m].lerp_(sq.detach().to(self.running_sq.dtype), self.momentum)
            else:
                sq = self.running_sq[v:v + m].to(x.dtype)
            scale = self.vector_weight[v:v + m].to(x.dtype) / torch.sqrt(sq + self.eps)
            pieces.append((vec * scale[:, None]).flatten(-2))
            v += m
        return torch.cat(pieces, -1)
