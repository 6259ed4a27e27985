"""Harmonic polynomials of a direction, as features of any group.

For ``d = 3`` these are e3nn's real spherical harmonics ``Y^l(x / |x|)``,
``l = 0..L`` ("component" normalization), which transform under O(3) by the
irreps ``(l, l mod 2)``; for ``d = 2`` the circular harmonics
``(cos k phi, sin k phi)``, ``k = 0..L``, which transform under O(2) by the
irreps ``(1, k)`` (``(0, 0)`` for ``k = 0``). Under a subgroup G of O(d) the
same features are a representation of G: :func:`harmonics_rep` restricts it
and returns it in G's irreps basis, and :func:`harmonics` evaluates the
features in that basis, so that they can feed any G-equivariant layer.
"""
from __future__ import annotations

from functools import cache

import torch
from torch import Tensor

from topoequi.symmetry.group import Group
from topoequi.symmetry.representation import Rep


def _parent_rep(d: int, max_frequency: int) -> Rep:
    from topoequi.symmetry import O2, O3

    if d == 3:
        o3 = O3()
        return Rep(o3, [o3.irrep(l, l % 2) for l in range(max_frequency + 1)])
    o2 = O2()
    return Rep(o2, [o2.irrep(0, 0)] + [o2.irrep(1, k) for k in range(1, max_frequency + 1)])


@cache
def _restricted(group: Group, max_frequency: int) -> tuple[Rep, Tensor | None]:
    """The restricted representation and its change of basis (``None`` when it is the identity)."""
    parent = _parent_rep(group.d, max_frequency)
    rep = parent if parent.group == group else parent.restrict(group)
    q = rep.change_of_basis
    if q is not None and torch.equal(q, torch.eye(q.shape[0], dtype=q.dtype)):
        q = None
    return Rep(group, rep.irreps), q


def harmonics_rep(group: Group, max_frequency: int) -> Rep:
    """The representation of ``group`` on the harmonics up to ``max_frequency`` (irreps basis)."""
    return _restricted(group, max_frequency)[0]


def harmonics(vectors: Tensor, group: Group, max_frequency: int) -> Tensor:
    """Harmonics of the directions of ``vectors [..., d]`` in the irreps basis of ``group``.

    At the zero vector, whose direction is undefined, the frequencies >= 1
    vanish (their average over O(d)), which keeps the map equivariant.
    """
    d = group.d
    if vectors.shape[-1] != d:
        raise ValueError(f"harmonics: vectors must have last dimension {d} for {group}, got {list(vectors.shape)}")
    norm = vectors.norm(dim=-1, keepdim=True)
    fallback = torch.zeros_like(vectors)
    fallback[..., 0] = 1.0
    unit = torch.where(norm > 0, vectors / norm.clamp_min(torch.finfo(vectors.dtype).tiny), fallback)
    if d == 3:
        from e3nn.o3 import spherical_harmonics

        feats = spherical_harmonics(list(range(max_frequency + 1)), unit, normalize=False,
                                    normalization="component")
    else:
        phi = torch.atan2(unit[..., 1], unit[..., 0])
        parts = [torch.ones_like(phi)[..., None]]
        for k in range(1, max_frequency + 1):
            parts.append(torch.stack([torch.cos(k * phi), torch.sin(k * phi)], -1) * 2**0.5)
        feats = torch.cat(parts, -1)
    # at the zero vector only the invariant l = 0 part survives (the O(d)-average of the rest)
    feats = torch.cat([feats[..., :1], feats[..., 1:] * (norm > 0).to(feats.dtype)], -1)
    q = _restricted(group, max_frequency)[1]
    return feats if q is None else feats @ q.to(dtype=vectors.dtype, device=vectors.device)
