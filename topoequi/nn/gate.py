"""Gated nonlinearity: scalars through an activation, every other irrep scaled by a learned gate."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from topoequi.nn.linear import irrep_indices
from topoequi.symmetry import Rep


class GatedNonlinearity(nn.Module):
    r"""Gated nonlinearity (Weiler et al. 2018, e3nn's ``Gate``).

    The input carries ``rep`` followed by one invariant gate per non-trivial
    irrep copy of ``rep``:

    .. math::
        s \mapsto \mathrm{act}(s), \qquad v_c \mapsto \sigma(g_c)\, v_c .

    Args:
        rep (Rep): the output representation, in the irreps basis.
        activation (callable, optional): applied to the invariant features. (default: SiLU)
        gate (callable, optional): applied to the gates. (default: sigmoid)

    Shapes:
        - **input:** :math:`(*, \dim \rho + n_{gates})`
        - **output:** :math:`(*, \dim \rho)`
    """

    def __init__(self, rep: Rep, activation: Callable[[Tensor], Tensor] = nn.functional.silu,
                 gate: Callable[[Tensor], Tensor] = torch.sigmoid):
        super().__init__()
        if rep.change_of_basis is not None:
            raise ValueError("GatedNonlinearity: rep must be in the irreps basis (no change of basis)")
        self.out_rep = rep
        trivial = rep.group.trivial_irrep
        index = irrep_indices(rep)
        self.num_gates = sum(len(idx) for psi, idx in index.items() if psi != trivial)
        self.in_rep = rep + rep.group.trivial_rep(self.num_gates)
        self.activation, self.gate = activation, gate
        scalar = torch.zeros(rep.dim, dtype=torch.bool)
        if trivial in index:
            scalar[index[trivial].flatten()] = True
        gate_of = torch.full((rep.dim,), -1, dtype=torch.long)
        copy = 0
        for psi, idx in index.items():
            if psi != trivial:
                for row in idx:
                    gate_of[row] = rep.dim + copy
                    copy += 1
        self.register_buffer("scalar", scalar, persistent=False)
        self.register_buffer("gate_of", gate_of.clamp_min(0), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "GatedNonlinearity: x")
        features = x[..., : self.out_rep.dim]
        gates = self.gate(x[..., self.gate_of])
        return torch.where(self.scalar, self.activation(features), features * gates)


class NormNonlinearity(nn.Module):
    r"""Norm nonlinearity: scalars through an activation, each other irrep copy rescaled by a
    function of its norm,

    .. math::
        v_c \mapsto \sigma\big(\|v_c\|_\epsilon - b_c\big)\, v_c,
        \qquad \|v\|_\epsilon = \sqrt{\|v\|^2 + \epsilon^2} - \epsilon,

    with a learned bias :math:`b_c` per copy (smooth at :math:`v = 0`).

    Args:
        rep (Rep): the representation, in the irreps basis.
        activation (callable, optional): applied to the invariant features. (default: SiLU)
        eps (float, optional): smoothing of the norm. (default: ``1e-3``)

    Shapes:
        - **input:** :math:`(*, \dim \rho)`
        - **output:** :math:`(*, \dim \rho)`
    """

    def __init__(self, rep: Rep, activation: Callable[[Tensor], Tensor] = nn.functional.silu,
                 eps: float = 1e-3):
        super().__init__()
        if rep.change_of_basis is not None:
            raise ValueError("NormNonlinearity: rep must be in the irreps basis (no change of basis)")
        self.in_rep = self.out_rep = rep
        self.activation, self.eps = activation, eps
        trivial = rep.group.trivial_irrep
        blocks = [(psi.dim, idx) for psi, idx in irrep_indices(rep).items() if psi != trivial]
        self.dims = [d for d, _ in blocks]
        for k, (_, idx) in enumerate(blocks):
            self.register_buffer(f"index_{k}", idx, persistent=False)
        self.register_buffer("scalar_index", irrep_indices(rep).get(trivial, torch.zeros(0, 1, dtype=torch.long))
                             .flatten(), persistent=False)
        self.bias = nn.Parameter(torch.zeros(sum(len(idx) for _, idx in blocks)))

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "NormNonlinearity: x")
        out = x.clone()
        out[..., self.scalar_index] = self.activation(x[..., self.scalar_index])
        start = 0
        for k in range(len(self.dims)):
            idx = getattr(self, f"index_{k}")
            v = x[..., idx]  # [..., copies, d]
            norm = torch.sqrt((v * v).sum(-1, keepdim=True) + self.eps**2) - self.eps
            b = self.bias[start:start + len(idx)].to(x.dtype)[:, None]
            out[..., idx] = torch.sigmoid(norm - b) * v
            start += len(idx)
        return out
