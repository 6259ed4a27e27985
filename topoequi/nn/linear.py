"""Equivariant linear maps between representations."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from topoequi.symmetry import Irrep, Rep, endomorphism_basis


def irrep_indices(rep: Rep) -> dict[Irrep, Tensor]:
    """For each irrep of ``rep``, the feature indices of all its copies, ``[copies, dim]``
    (positions in the irreps basis)."""
    return {psi: torch.tensor([[s + k for k in range(psi.dim)] for s in starts], dtype=torch.long)
            for psi, starts in rep.copy_offsets().items()}


class EquivariantLinear(nn.Module):
    r"""The general equivariant linear map :math:`\rho_{in} \to \rho_{out}`.

    For each irrep :math:`\psi`, with :math:`m_{in}` input and :math:`m_{out}`
    output copies and endomorphism basis :math:`E_1 = I, E_2, \dots` (one
    element for real-type irreps, two for complex type),

    .. math::
        y_{\psi, o} = \sum_t E_t \sum_i W^{(t)}_{io}\, x_{\psi, i},

    plus a bias on the invariant (trivial) outputs. Every equivariant linear map
    has this form (Schur's lemma).

    Args:
        in_rep (Rep): representation of the input features.
        out_rep (Rep): representation of the output features.
        bias (bool, optional): learn a bias on the invariant outputs. (default: ``True``)

    Shapes:
        - **input:** :math:`(*, \dim \rho_{in})`
        - **output:** :math:`(*, \dim \rho_{out})`
    """

    def __init__(self, in_rep: Rep, out_rep: Rep, bias: bool = True):
        super().__init__()
        if in_rep.group != out_rep.group:
            raise ValueError(f"EquivariantLinear: in_rep is of {in_rep.group}, out_rep of {out_rep.group}")
        self.in_rep, self.out_rep = in_rep, out_rep
        ins, outs = irrep_indices(in_rep), irrep_indices(out_rep)
        self.paths = [psi for psi in outs if psi in ins]
        self.weights = nn.ParameterList()
        order = []
        for k, psi in enumerate(self.paths):
            self.register_buffer(f"in_index_{k}", ins[psi], persistent=False)
            self.register_buffer(f"ends_{k}", endomorphism_basis(psi)[1:],
                                 persistent=False)
            self.weights.append(nn.Parameter(torch.empty(psi.type_dim, len(ins[psi]), len(outs[psi]))))
            order.append(outs[psi].flatten())
        missing = [outs[psi].flatten() for psi in outs if psi not in ins]
        # output columns: the paths' results, then zeros for irreps no input can reach
        produced = torch.cat(order + missing) if order or missing else torch.zeros(0, dtype=torch.long)
        self.num_missing = sum(m.numel() for m in missing)
        self.register_buffer("out_perm", torch.argsort(produced), persistent=False)
        num_bias = out_rep.num_invariants if bias else 0
        self.bias = nn.Parameter(torch.zeros(num_bias)) if num_bias else None
        if self.bias is not None:
            self.register_buffer("bias_index", irrep_indices(out_rep)[out_rep.group.trivial_irrep].flatten(),
                                 persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for w in self.weights:
            nn.init.normal_(w, std=1.0 / math.sqrt(w.shape[0] * w.shape[1]))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "EquivariantLinear: x")
        x = self.in_rep.to_irreps_basis(x)
        pieces = []
        for k, psi in enumerate(self.paths):
            xs = x[..., getattr(self, f"in_index_{k}")]  # [..., m_in, d]
            w = self.weights[k]
            y = torch.einsum("...id,io->...od", xs, w[0])
            for t, e in enumerate(getattr(self, f"ends_{k}")):
                y = y + torch.einsum("...id,io,ed->...oe", xs, w[t + 1], e.to(x.dtype))
            pieces.append(y.flatten(-2))
        if self.num_missing:
            pieces.append(x.new_zeros(*x.shape[:-1], self.num_missing))
        out = torch.cat(pieces, -1)[..., self.out_perm] if pieces else x.new_zeros(*x.shape[:-1], 0)
        if self.bias is not None:
            out = out.index_add(-1, self.bias_index, self.bias.to(out.dtype).expand(*out.shape[:-1], -1))
        return self.out_rep.from_irreps_basis(out)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_rep} -> {self.out_rep})"
