"""Equivariant linear maps between representations."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from topoequi.symmetry import Rep, endomorphism_basis


def split_entries(x: Tensor, rep: Rep) -> list[Tensor]:
    """Features ``[..., rep.dim]`` (irreps basis) as one view ``[..., mult, dim]`` per entry of ``rep``.

    One ``split`` for all entries: its backward is a single concatenation, where
    separate slices would each allocate a full-size gradient.
    """
    pieces = x.split([psi.dim * m for psi, _, m in rep.entries()], dim=-1)
    return [p.unflatten(-1, (m, psi.dim)) for p, (psi, _, m) in zip(pieces, rep.entries())]


class EquivariantLinear(nn.Module):
    r"""The general equivariant linear map :math:`\rho_{in} \to \rho_{out}`.

    For each irrep :math:`\psi`, with :math:`m_{in}` input and :math:`m_{out}`
    output copies and endomorphism basis :math:`E_1 = I, E_2, \dots` (one
    element for real-type irreps, two for complex type),

    .. math::
        y_{\psi, o} = \sum_t E_t \sum_i W^{(t)}_{io}\, x_{\psi, i},

    plus a bias on the invariant (trivial) outputs. Every equivariant linear map
    has this form (Schur's lemma). The blocks :math:`W^{(t)} \otimes E_t` are
    assembled into one dense matrix (changes of basis folded in), so the layer
    runs as a single matrix product.

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
        trivial = out_rep.group.trivial_irrep
        self.weights = nn.ParameterDict()
        self.biases = nn.ParameterDict()
        self.plan = []  # per output entry: (psi, mult, [(weight key, input entry, in mult)], bias key)
        for o, (psi, _, m_out) in enumerate(out_rep.entries()):
            sources = []
            for i, (phi, _, m_in) in enumerate(in_rep.entries()):
                if phi == psi:
                    key = f"{o}_{i}"
                    self.weights[key] = nn.Parameter(torch.empty(psi.type_dim, m_in, m_out))
                    sources.append((key, i, m_in))
            bias_key = None
            if bias and psi == trivial:
                bias_key = str(o)
                self.biases[bias_key] = nn.Parameter(torch.zeros(m_out))
            self.plan.append((psi, m_out, sources, bias_key))
        for psi in {psi for psi, _, _, _ in self.plan}:
            if psi.type_dim > 1:
                self.register_buffer(f"ends_{self._psi_key(psi)}", endomorphism_basis(psi)[1:], persistent=False)
        self.reset_parameters()

    @staticmethod
    def _psi_key(psi) -> str:
        return "_".join(str(i) for i in psi.id)

    def reset_parameters(self) -> None:
        for psi, _, sources, _ in self.plan:
            fan_in = sum(m for _, _, m in sources) * psi.type_dim
            for key, _, _ in sources:
                nn.init.normal_(self.weights[key], std=1.0 / math.sqrt(fan_in))
        for b in self.biases.values():
            nn.init.zeros_(b)

    def matrix(self, dtype: torch.dtype = torch.float64, device: torch.device | None = None) -> Tensor:
        """The map as one dense ``[in_rep.dim, out_rep.dim]`` matrix (``y = x @ M + b``), changes of
        basis included; built from the equivariant parameters, so it is exactly equivariant."""
        ins = self.in_rep.entries()
        columns = []
        for psi, m_out, sources, _ in self.plan:
            ends = [None] + list(getattr(self, f"ends_{self._psi_key(psi)}", ()))
            by_entry = {i: key for key, i, _ in sources}
            rows = []
            for i, (phi, _, m_in) in enumerate(ins):
                if i not in by_entry:
                    rows.append(torch.zeros(phi.dim * m_in, psi.dim * m_out, dtype=dtype, device=device))
                    continue
                w = self.weights[by_entry[i]].to(dtype=dtype, device=device)
                block = torch.kron(w[0], torch.eye(psi.dim, dtype=dtype, device=device))
                for t in range(1, len(ends)):
                    block = block + torch.kron(w[t], ends[t].to(dtype).T.contiguous())
                rows.append(block)
            columns.append(torch.cat(rows, 0) if rows else torch.zeros(0, psi.dim * m_out, dtype=dtype, device=device))
        m = torch.cat(columns, 1) if columns else torch.zeros(self.in_rep.dim, 0, dtype=dtype, device=device)
        if self.in_rep.change_of_basis is not None:
            m = self.in_rep.change_of_basis.to(m) @ m
        if self.out_rep.change_of_basis is not None:
            m = m @ self.out_rep.change_of_basis.to(m).T
        return m

    def bias_vector(self, dtype: torch.dtype = torch.float64, device: torch.device | None = None) -> Tensor | None:
        """The bias as a ``[out_rep.dim]`` vector (``None`` without bias)."""
        if not len(self.biases):
            return None
        pieces = []
        for psi, m_out, _, bias_key in self.plan:
            if bias_key is None:
                pieces.append(torch.zeros(psi.dim * m_out, dtype=dtype, device=device))
            else:
                pieces.append(self.biases[bias_key].to(dtype=dtype, device=device))
        b = torch.cat(pieces)
        if self.out_rep.change_of_basis is not None:
            b = self.out_rep.change_of_basis.to(b) @ b
        return b

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "EquivariantLinear: x")
        return nn.functional.linear(x, self.matrix(x.dtype, x.device).T, self.bias_vector(x.dtype, x.device))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_rep} -> {self.out_rep})"
