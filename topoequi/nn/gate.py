"""Gated and norm nonlinearities: scalars through an activation, other irreps rescaled by invariants."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from topoequi.nn.linear import split_entries
from topoequi.symmetry import Rep


def _check_irreps_basis(rep: Rep, name: str) -> None:
    if rep.change_of_basis is not None:
        raise ValueError(f"{name}: rep must be in the irreps basis (no change of basis)")


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", None) or repr(fn)


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
        _check_irreps_basis(rep, "GatedNonlinearity")
        self.out_rep = rep
        self.trivial = rep.group.trivial_irrep
        self.num_gates = sum(m for psi, _, m in rep.entries() if psi != self.trivial)
        self.in_rep = rep + rep.group.trivial_rep(self.num_gates)
        self.activation, self.gate = activation, gate

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.out_rep}, gates={self.num_gates}, "
                f"activation={_name(self.activation)}, gate={_name(self.gate)})")

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "GatedNonlinearity: x")
        features, gates = x.split([self.out_rep.dim, self.num_gates], dim=-1)
        gates = self.gate(gates)
        pieces, g = [], 0
        for (psi, _, m), v in zip(self.out_rep.entries(), split_entries(features, self.out_rep)):
            if psi == self.trivial:
                pieces.append(self.activation(v.flatten(-2)))
            else:  # copy c of the entry scaled by its gate, broadcast over the irrep's dimension
                pieces.append((v * gates[..., g:g + m, None]).flatten(-2))
                g += m
        return torch.cat(pieces, -1)


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
        _check_irreps_basis(rep, "NormNonlinearity")
        self.in_rep = self.out_rep = rep
        self.trivial = rep.group.trivial_irrep
        self.activation, self.eps = activation, eps
        self.bias = nn.Parameter(torch.empty(sum(m for psi, _, m in rep.entries() if psi != self.trivial)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.bias)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_rep}, activation={_name(self.activation)}, eps={self.eps})"

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "NormNonlinearity: x")
        pieces, b = [], 0
        for (psi, _, m), v in zip(self.out_rep.entries(), split_entries(x, self.out_rep)):
            if psi == self.trivial:
                pieces.append(self.activation(v.flatten(-2)))
                continue
            norm = torch.sqrt((v * v).sum(-1, keepdim=True) + self.eps**2) - self.eps
            scale = torch.sigmoid(norm - self.bias[b:b + m].to(x.dtype)[:, None])
            pieces.append((scale * v).flatten(-2))
            b += m
        return torch.cat(pieces, -1)
