"""Equivariant batch normalization."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.nn.linear import irrep_indices
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
        trivial = rep.group.trivial_irrep
        index = irrep_indices(rep)
        scalars = index.get(trivial, torch.zeros(0, 1, dtype=torch.long)).flatten()
        # copy id of every non-invariant feature, to average squared norms per copy
        copy_of = torch.full((rep.dim,), -1, dtype=torch.long)
        n = 0
        for psi, idx in index.items():
            if psi != trivial:
                for row in idx:
                    copy_of[row] = n
                    n += 1
        vector_index = (copy_of >= 0).nonzero().flatten()
        self.register_buffer("scalar_index", scalars, persistent=False)
        self.register_buffer("vector_index", vector_index, persistent=False)
        self.register_buffer("copy_of", copy_of[vector_index], persistent=False)
        counts = torch.bincount(copy_of[vector_index], minlength=n).clamp_min(1)
        self.register_buffer("copy_dim", counts.to(torch.get_default_dtype()), persistent=False)
        self.scalar_bn = nn.BatchNorm1d(len(scalars), momentum=momentum, eps=eps) if len(scalars) else None
        self.weight = nn.Parameter(torch.ones(n))
        self.register_buffer("running_sq", torch.ones(n))

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)
        self.running_sq.fill_(1.0)
        if self.scalar_bn is not None:
            self.scalar_bn.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "EquivariantBatchNorm: x")
        if x.dim() != 2:
            raise ValueError(f"EquivariantBatchNorm: x must be [N, {self.in_rep.dim}], got {list(x.shape)}")
        if x.shape[0] == 0:
            return x
        out = x.clone()
        if self.scalar_bn is not None and (x.shape[0] > 1 or not self.training):
            out[:, self.scalar_index] = self.scalar_bn(x[:, self.scalar_index])
        if len(self.vector_index):
            v = x[:, self.vector_index]
            if self.training:
                sq = torch.zeros_like(self.running_sq, dtype=x.dtype).index_add(0, self.copy_of, (v * v).mean(0))
                sq = sq / self.copy_dim.to(x.dtype)
                with torch.no_grad():
                    self.running_sq.lerp_(sq.detach().to(self.running_sq.dtype), self.momentum)
            else:
                sq = self.running_sq.to(x.dtype)
            scale = self.weight.to(x.dtype) / torch.sqrt(sq + self.eps)
            out[:, self.vector_index] = v * scale[self.copy_of]
        return out
