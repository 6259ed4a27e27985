"""Restriction of the symmetry group between layers (D8 -> D4 -> D1, O(2) -> D_N, C_N inside D_N)."""
from __future__ import annotations

from functools import cache

import torch
from torch import Tensor, nn

from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Group, Rep


@cache
def _restrict_irrep(psi, subgroup: Group) -> Rep:
    return Rep(psi.group, [psi]).restrict(subgroup)


def restrict_rep(rep: Rep, subgroup: Group) -> Rep:
    """``rep`` as a representation of ``subgroup``, same features: each distinct irrep is decomposed
    once into irreps of ``subgroup`` and the changes of basis are chained."""
    if not isinstance(subgroup, Group):
        raise TypeError(f"RestrictGroup: subgroup must be a Group, got {type(subgroup).__name__}")
    try:
        pieces = {psi: _restrict_irrep(psi, subgroup) for psi in dict.fromkeys(psi for psi, _ in rep.irreps)}
    except ValueError as err:
        raise ValueError(f"RestrictGroup: subgroup: {err}") from err
    irreps, blocks = [], []
    for psi, m in rep.irreps:
        irreps += list(pieces[psi].irreps) * m
        blocks += [pieces[psi].change_of_basis_or_eye()] * m
    q = rep.change_of_basis_or_eye() @ torch.block_diag(*blocks) if blocks else None
    return Rep(subgroup, irreps, q)


def regular_reordering(rep: Rep, subgroup: Group) -> Tensor | None:
    """For fields whose restriction to a finite ``subgroup`` permutes samples freely (regular fields of
    ``G`` in the sample basis), the order ``index`` of the features such that ``x[:, index]`` is
    ``regular_field_rep(subgroup, dim / |H|)``; ``None`` otherwise."""
    if not subgroup.is_finite or rep.dim % subgroup.order:
        return None
    group = rep.group
    fields = rep.dim // group.order if group.is_finite else 0
    if fields > 1 and rep.dim % group.order == 0 and rep == regular_field_rep(group, fields):
        single = regular_reordering(regular_field_rep(group, 1), subgroup)  # the same for every field
        if single is None:
            return None
        return (single + torch.arange(0, rep.dim, group.order)[:, None]).flatten()
    h = subgroup.elements()
    mats = rep.matrices(h)
    if not bool(((mats - mats.round()).abs() < 1e-9).all()) or not bool((mats.round().sum(1) == 1).all()):
        return None
    image = mats.round().argmax(1)  # image[j, r]: where h_j sends sample r
    index, placed = [], torch.zeros(rep.dim, dtype=torch.bool)
    for r in range(rep.dim):
        if not placed[r]:
            orbit = image[:, r]
            if bool(placed[orbit].any()) or orbit.unique().numel() != h.shape[0]:
                return None
            placed[orbit] = True
            index.append(orbit)
    index = torch.cat(index)
    target = regular_field_rep(subgroup, rep.dim // subgroup.order)
    moved = mats[:, index][:, :, index]
    return index if torch.allclose(moved, target.matrices(h), atol=1e-9) else None


class RestrictGroup(nn.Module):
    r"""Restricts the symmetry group of a field to a subgroup :math:`H \le G`: the features are
    unchanged, their type becomes :math:`\mathrm{Res}^G_H \rho`, whose matrices are those of
    :math:`\rho` on :math:`H`. Later layers are only :math:`H`-equivariant (the wide ResNets of
    Weiler & Cesa restrict D8 -> D4 -> D1 between stages). Regular fields of a finite group in the
    sample basis are reordered into regular fields of :math:`H` (:func:`regular_reordering`,
    ``[G:H]`` per field), so that ReLU, :class:`~topoequi.nn.RegularBatchNorm` and group pooling
    apply after the restriction too.

    Args:
        in_rep (Rep): representation of :math:`G`.
        subgroup (Group): :math:`H`, acting on the same plane.

    Shapes:
        - **input:** :math:`(B, \dim \rho, *)`
        - **output:** the same features, reordered for regular fields
    """

    def __init__(self, in_rep: Rep, subgroup: Group):
        super().__init__()
        if not isinstance(subgroup, Group):
            raise TypeError(f"RestrictGroup: subgroup must be a Group, got {type(subgroup).__name__}")
        index = regular_reordering(in_rep, subgroup) if subgroup.d == in_rep.group.d else None
        self.in_rep, self.reorder = in_rep, index is not None
        if self.reorder:
            self.out_rep = regular_field_rep(subgroup, in_rep.dim // subgroup.order)
            self.register_buffer("index", index, persistent=False)
        else:
            self.out_rep = restrict_rep(in_rep, subgroup)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"RestrictGroup: x must be [B, {self.in_rep.dim}, ...], got {list(x.shape)}")
        return x.index_select(1, self.index) if self.reorder else x

    def __repr__(self) -> str:
        return f"RestrictGroup({self.in_rep.group} -> {self.out_rep.group}, dim={self.in_rep.dim})"
