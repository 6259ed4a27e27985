"""Restriction of the symmetry group between layers (D8 -> D4 -> D1, O(2) -> D_N, C_N inside D_N)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.symmetry import Group, Rep


def restrict_rep(rep: Rep, subgroup: Group) -> Rep:
    """``rep`` as a representation of ``subgroup``, same features: each distinct irrep is decomposed
    once into irreps of ``subgroup`` and the changes of basis are chained."""
    if not isinstance(subgroup, Group):
        raise TypeError(f"RestrictGroup: subgroup must be a Group, got {type(subgroup).__name__}")
    try:
        pieces = {psi: Rep(rep.group, [psi]).restrict(subgroup) for psi, _ in rep.irreps}
    except ValueError as err:
        raise ValueError(f"RestrictGroup: subgroup: {err}") from err
    irreps, blocks = [], []
    for psi, m in rep.irreps:
        irreps += list(pieces[psi].irreps) * m
        blocks += [pieces[psi].change_of_basis_or_eye()] * m
    q = rep.change_of_basis_or_eye() @ torch.block_diag(*blocks) if blocks else None
    return Rep(subgroup, irreps, q)


class RestrictGroup(nn.Module):
    r"""Restricts the symmetry group of a field to a subgroup :math:`H \le G`: the features are
    unchanged, their type becomes :math:`\mathrm{Res}^G_H \rho`, whose matrices are those of
    :math:`\rho` on :math:`H`. Later layers are only :math:`H`-equivariant (the wide ResNets of
    Weiler & Cesa restrict D8 -> D4 -> D1 between stages).

    Args:
        in_rep (Rep): representation of :math:`G`.
        subgroup (Group): :math:`H`, acting on the same plane.

    Shapes:
        - **input:** :math:`(B, \dim \rho, *)`
        - **output:** same tensor
    """

    def __init__(self, in_rep: Rep, subgroup: Group):
        super().__init__()
        self.in_rep, self.out_rep = in_rep, restrict_rep(in_rep, subgroup)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"RestrictGroup: x must be [B, {self.in_rep.dim}, ...], got {list(x.shape)}")
        return x

    def __repr__(self) -> str:
        return f"RestrictGroup({self.in_rep.group} -> {self.out_rep.group}, dim={self.in_rep.dim})"
