"""Equivariant bilinear maps, applied to aggregated outer products."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from topoequi.symmetry import Rep, clebsch_gordan


class EquivariantBilinear(nn.Module):
    r"""The general equivariant linear map :math:`\rho_a \otimes \rho_b \to \rho_{out}`,
    applied to a batch of matrices :math:`A \in \rho_a \otimes \rho_b`.

    For every block pair (copies :math:`u` of :math:`\psi_a`, :math:`v` of
    :math:`\psi_b`) and every output irrep :math:`\psi_c`, the Clebsch-Gordan
    maps :math:`C_k: \psi_a \otimes \psi_b \to \psi_c` give the path features
    :math:`T_{uvk} = C_k(A_{uv})`; the output copies are learned linear
    combinations of all paths ending in :math:`\psi_c`:

    .. math::
        y_{\psi_c, w} = \sum_{(u, v, k)} W^{\psi_c}_{uvk, w}\, C_k(A_{uv}).

    This spans every equivariant map, and since it is linear in :math:`A`, a sum
    of outer products :math:`A_i = \sum_j h_{ij} \otimes f_j` can be aggregated
    first and mapped once per node.

    Args:
        left_rep (Rep): :math:`\rho_a` (rows of :math:`A`), irreps basis.
        right_rep (Rep): :math:`\rho_b` (columns of :math:`A`), irreps basis.
        out_rep (Rep): output representation.

    Shapes:
        - **input:** :math:`(N, \dim \rho_a, \dim \rho_b)`
        - **output:** :math:`(N, \dim \rho_{out})`
    """

    def __init__(self, left_rep: Rep, right_rep: Rep, out_rep: Rep):
        super().__init__()
        for name, rep in (("left_rep", left_rep), ("right_rep", right_rep)):
            if rep.change_of_basis is not None:
                raise ValueError(f"EquivariantBilinear: {name} must be in the irreps basis")
        if not (left_rep.group == right_rep.group == out_rep.group):
            raise ValueError("EquivariantBilinear: representations of different groups")
        self.left_rep, self.right_rep, self.out_rep = left_rep, right_rep, out_rep
        out_entries = {}
        start = 0
        for psi, m in out_rep.irreps:
            out_entries.setdefault(psi, []).append((start, m))
            start += psi.dim * m
        self.outputs = []  # (psi_c, [(left entry, right entry, cg buffer name)])
        self.weights = nn.ParameterList()
        n_cg = 0
        order = []
        for psi_c, entries in out_entries.items():
            paths, width = [], 0
            for i, (psi_a, m_a) in enumerate(left_rep.irreps):
                for j, (psi_b, m_b) in enumerate(right_rep.irreps):
                    cg = clebsch_gordan(psi_a, psi_b, psi_c)
                    if cg.shape[0]:
                        name = f"cg_{n_cg}"
                        self.register_buffer(name, cg, persistent=False)  # float64, cast at use
                        n_cg += 1
                        paths.append((i, j, name))
                        width += m_a * m_b * cg.shape[0]
            if not paths:
                continue
            m_out = sum(m for _, m in entries)
            self.outputs.append((psi_c, paths))
            self.weights.append(nn.Parameter(torch.empty(width, m_out)))
            order.append(torch.cat([torch.arange(s, s + m * psi_c.dim) for s, m in entries]))
        covered = torch.cat(order) if order else torch.zeros(0, dtype=torch.long)
        missing = torch.tensor(sorted(set(range(out_rep.dim)) - set(covered.tolist())), dtype=torch.long)
        self.num_missing = len(missing)
        self.register_buffer("out_perm", torch.argsort(torch.cat([covered, missing])), persistent=False)
        self.reset_parameters()

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.left_rep} x {self.right_rep} -> {self.out_rep})"

    def reset_parameters(self) -> None:
        for w in self.weights:
            nn.init.normal_(w, std=1.0 / math.sqrt(w.shape[0]))

    def matrix(self, dtype: torch.dtype | None = None) -> Tensor:
        r"""The map as one dense matrix ``[dim rho_out, dim rho_a * dim rho_b]`` on the irreps bases,
        :math:`M^{\psi_c}_{(w, c), (u, a), (v, b)} = \sum_k W^{\psi_c}_{uvk, w}\, C_k[c, a, b]`, so that
        the layer is ``A.flatten(1) @ M.T``: parameter-sized work, then one matrix product per batch.
        ``dtype``: build it in this precision (default: the weights'; the Clebsch-Gordan maps are float64)."""
        dims_a = [psi.dim * m for psi, m in self.left_rep.irreps]
        dims_b = [psi.dim * m for psi, m in self.right_rep.irreps]
        start_a = [sum(dims_a[:i]) for i in range(len(dims_a))]
        start_b = [sum(dims_b[:j]) for j in range(len(dims_b))]
        d_a, d_b = sum(dims_a), sum(dims_b)
        rows = []
        if dtype is None:
            dtype = self.weights[0].dtype if len(self.weights) else torch.get_default_dtype()
        for (psi_c, paths), w in zip(self.outputs, self.weights):
            w = w.to(dtype)
            m_out = w.shape[1]
            block = w.new_zeros(m_out, psi_c.dim, d_a, d_b)
            offset = 0
            for i, j, name in paths:
                m_a, m_b = self.left_rep.irreps[i][1], self.right_rep.irreps[j][1]
                cg = getattr(self, name).to(w.dtype)
                w_path = w[offset:offset + m_a * m_b * cg.shape[0]].view(m_a, m_b, cg.shape[0], m_out)
                offset += w_path[..., 0].numel()
                part = torch.einsum("uvkw,kcab->wcuavb", w_path, cg).reshape(m_out, psi_c.dim, dims_a[i], dims_b[j])
                block[:, :, start_a[i]:start_a[i] + dims_a[i], start_b[j]:start_b[j] + dims_b[j]] = part
            rows.append(block.reshape(m_out * psi_c.dim, d_a * d_b))
        if self.num_missing:
            rows.append(torch.zeros(self.num_missing, d_a * d_b, dtype=dtype, device=self.out_perm.device))
        if not rows:  # a zero-dimensional output
            return torch.zeros(0, d_a * d_b, dtype=dtype, device=self.out_perm.device)
        return torch.cat(rows)[self.out_perm]

    def forward(self, a: Tensor) -> Tensor:
        out = a.reshape(a.shape[0], -1) @ self.matrix(a.dtype).T
        return self.out_rep.from_irreps_basis(out)
