"""Conversions at the boundary: e3nn ``Irreps`` and escnn ``FieldType``.

- e3nn: topoequi's SO(3) irreps are in the basis of e3nn's real spherical
  harmonics, so an O(3) irrep ``(l, p)`` is e3nn's ``Irrep(l, (-1)^p)`` with
  identical matrices, and features convert without any change of basis. An
  SO(3) irrep ``(l,)`` maps to e3nn's natural parity ``(-1)^l`` (vectors 1o).
- escnn: each escnn irrep is matched to a topoequi irrep by solving for the
  orthogonal intertwiner between them on the group's generators (escnn uses
  other real bases), and the returned ``FieldType`` carries the change of
  basis, so its representation equals the topoequi one matrix for matrix.
  Supported groups: SO(2), O(2), C_N, D_N (on R^2) and SO(3), O(3).
"""
from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import Tensor

from topoequi.symmetry.group import Group, Irrep, planar_angle_and_flip
from topoequi.symmetry.intertwiners import intertwiner_basis
from topoequi.symmetry.planar import PlanarGroup
from topoequi.symmetry.representation import Rep, decompose


# -- e3nn --------------------------------------------------------------------------
def to_e3nn(rep: Rep):
    """A topoequi representation of SO(3) or O(3) as e3nn ``Irreps`` (same feature layout)."""
    from e3nn.o3 import Irreps

    if rep.group.name not in ("SO(3)", "O(3)"):
        raise ValueError(f"to_e3nn: only SO(3) and O(3) representations convert, got {rep.group}")
    if rep.change_of_basis is not None:
        raise ValueError("to_e3nn: the representation has a change of basis; convert features with "
                         "rep.to_irreps_basis and use Rep(rep.group, rep.irreps)")
    out = []
    for psi, mult in rep.irreps:
        l = psi.id[0]
        parity = (-1) ** l if rep.group.name == "SO(3)" else (-1) ** psi.id[1]
        out.append((mult, (l, parity)))
    return Irreps(out)


# -- escnn -------------------------------------------------------------------------
def escnn_gspace(group: Group, max_frequency: int = 3):
    """The escnn ``GSpace`` of ``group`` acting on R^2 or R^3 (reflections across the x axis in 2D)."""
    from escnn import gspaces

    if isinstance(group, PlanarGroup):
        if group.has_reflections:
            return gspaces.flipRot2dOnR2(N=group.N or -1, maximum_frequency=max_frequency, axis=0.0)
        return gspaces.rot2dOnR2(N=group.N or -1, maximum_frequency=max_frequency)
    if group.name == "SO(3)":
        return gspaces.rot3dOnR3(maximum_frequency=max_frequency)
    if group.name == "O(3)":
        return gspaces.flipRot3dOnR3(maximum_frequency=max_frequency)
    raise ValueError(f"escnn conversion supports SO(2), O(2), C_N, D_N, SO(3) and O(3); got {group}")


def escnn_elements(group: Group, gspace, elements: Tensor) -> list:
    """escnn group elements acting on space as the ``[B, d, d]`` topoequi elements do."""
    fiber = gspace.fibergroup
    g = elements.detach().to(torch.float64).cpu()
    if isinstance(group, PlanarGroup):
        theta, flip = planar_angle_and_flip(g)
        if group.has_reflections:
            return [fiber.element((int(s), float(t)), "radians") for t, s in zip(theta, flip)]
        return [fiber.element(float(t), "radians") for t in theta]
    if group.name == "SO(3)":
        return [fiber.element(m.numpy(), "MAT") for m in g]
    sign = torch.linalg.det(g).sign()
    return [fiber.element((int(s < 0), (s * m).numpy()), "MAT") for s, m in zip(sign, g)]


@cache
def _escnn_match(psi: Irrep, max_frequency: int):
    """The escnn irrep equivalent to ``psi`` and the orthogonal ``T`` with ``psi(g) = T esc(g) T^T``."""
    gspace = escnn_gspace(psi.group, max(max_frequency, psi.frequency))
    gens = psi.group.cached_generators
    esc_gens = escnn_elements(psi.group, gspace, gens)
    for irrep in gspace.fibergroup.irreps():
        if irrep.size != psi.dim:
            continue
        esc = torch.tensor(np.stack([irrep(e) for e in esc_gens]), dtype=torch.float64)
        basis = intertwiner_basis(lambda g, _psi=psi: _psi.matrices(g), lambda g, _esc=esc: _esc, psi.group)
        if basis.shape[0]:
            t = basis[0] * psi.dim**0.5  # unit Frobenius norm -> orthogonal
            return irrep, t
    raise ValueError(f"no escnn irrep of {gspace.fibergroup} matches {psi}")


def to_escnn(rep: Rep, max_frequency: int = 3):
    """The escnn ``FieldType`` whose representation equals ``rep`` matrix for matrix."""
    from escnn import group as egroup
    from escnn import nn as enn

    gspace = escnn_gspace(rep.group, max(max_frequency, *(psi.frequency for psi, _ in rep.irreps)))
    irreps, blocks = [], []
    for psi, mult in rep.irreps:
        esc, t = _escnn_match(psi, max_frequency)
        irreps += [gspace.fibergroup.irrep(*esc.id)] * mult
        blocks += [t] * mult
    q = rep.change_of_basis_or_eye() @ torch.block_diag(*blocks)
    representation = egroup.directsum(irreps, change_of_basis=q.numpy(), name=f"topoequi:{rep!r}")
    return enn.FieldType(gspace, [representation])


def from_escnn(field_type, group: Group) -> Rep:
    """An escnn ``FieldType`` (of a supported group) as a topoequi representation, with change of basis."""
    gspace = field_type.gspace
    escnn_gspace(group)  # validates that the group is supported

    def rho(elements: Tensor) -> Tensor:
        mats = [field_type.representation(e) for e in escnn_elements(group, gspace, elements)]
        return torch.tensor(np.stack(mats), dtype=torch.float64)

    return decompose(group, rho, field_type.size)
