"""Harmonic polynomials of a direction, as features of any group.

For ``d = 3`` these are e3nn's real spherical harmonics ``Y^l(x / |x|)``,
``l = 0..L`` ("component" normalization), which transform under O(3) by the
irreps ``(l, l mod 2)``; for ``d = 2`` the circular harmonics
``(cos k phi, sin k phi)``, ``k = 0..L``, which transform under O(2) by the
irreps ``(1, k)`` (``(0, 0)`` for ``k = 0``). Under a subgroup G of O(d) the
same features are a representation of G: :func:`harmonics_rep` restricts it
and returns it in G's irreps basis, and :func:`harmonics` evaluates the
features in that basis, so that they can feed any G-equivariant layer.
:func:`radial_harmonics` multiplies them by radial profiles (the analytic
kernel basis, rings x harmonics) and :func:`ring_harmonics` samples that
basis at fixed points, one band limit per ring, as the pixel-grid
convolutions do on their stencil.
"""
from __future__ import annotations

from functools import cache

import torch
from torch import Tensor

from topoequi.symmetry.group import Group
from topoequi.symmetry.representation import Rep


def _parent_rep(d: int, max_frequency: int) -> Rep:
    """``1x0e+1x1o+1x2e+...`` of O(3), or ``1x0e+1x1+1x2+...`` of O(2)."""
    if d == 3:
        return Rep("O(3)", "+".join(f"1x{l}{'eo'[l % 2]}" for l in range(max_frequency + 1)))
    return Rep("O(2)", "+".join(["1x0e"] + [f"1x{k}" for k in range(1, max_frequency + 1)]))


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


def radial_harmonics(radial: Tensor, y: Tensor, harmonic_rep: Rep) -> Tensor:
    r"""Products :math:`\phi_r(\|x\|)\, Y^l_k(\hat x)` of radial functions and harmonics, grouped by
    irrep: ``[E, sum_psi R m_psi dim psi]``, in the basis of ``Rep(G, [(psi, R m_psi)])``.

    Args:
        radial (Tensor): ``[E, R]`` functions shared by every harmonic copy, or ``[E, R, M]`` one set per
            copy (``M`` = number of irrep copies of ``harmonic_rep``).
        y (Tensor): harmonics ``[E, harmonic_rep.dim]`` (irreps basis).
        harmonic_rep (Rep): their representation.
    """
    parts, start, copy = [], 0, 0
    for psi, m in harmonic_rep.irreps:  # [E, R, m, d] -> R m copies of psi
        block = y[:, start:start + m * psi.dim].view(-1, 1, m, psi.dim)
        r = radial[:, :, None, None] if radial.dim() == 2 else radial[:, :, copy:copy + m, None]
        parts.append((r * block).flatten(1))
        start, copy = start + m * psi.dim, copy + m
    return torch.cat(parts, -1)


def ring_harmonics(vectors: Tensor, group: Group, radii: list[float], width: float,
                   max_frequencies: list[int], rtol: float = 1e-7) -> tuple[Tensor, Rep]:
    r"""The analytic kernel basis sampled at fixed points: Gaussian rings
    :math:`\exp(-(\|x\| - r)^2 / 2\sigma^2)` times the harmonics of ring :math:`r` up to
    ``max_frequencies[r]``, grouped by irrep of ``group``, with the linearly dependent copies
    dropped.

    On finitely many points the sampled copies of one irrep :math:`\psi` can be dependent
    (aliasing); any real combination of copies is again a copy of :math:`\psi`, so each
    irrep's copies are replaced by an orthonormal basis of their span
    (an SVD over points and components, singular values below ``rtol`` times the largest dropped).

    Returns:
        ``(features [P, D], rep)``: the features in the irreps basis of ``rep`` (sorted by irrep).
    """
    blocks: dict = {}  # irrep -> list of [P, m, dim] copies
    for r, top in zip(radii, max_frequencies):
        rep = harmonics_rep(group, top)
        profile = torch.exp(-0.5 * ((vectors.norm(dim=-1) - r) / width) ** 2)
        feats = radial_harmonics(profile[:, None], harmonics(vectors, group, top), rep)
        for psi, start, m in rep.entries():
            blocks.setdefault(psi, []).append(feats[:, start:start + m * psi.dim].unflatten(1, (m, psi.dim)))
    parts, irreps = [], []
    for psi in sorted(blocks, key=lambda p: (p.frequency, p.id)):
        copies = torch.cat(blocks[psi], 1)  # [P, m, d]
        flat = copies.transpose(0, 1).reshape(copies.shape[1], -1)  # [m, P d]
        _, s, vh = torch.linalg.svd(flat, full_matrices=False)
        keep = int((s > rtol * s[0]).sum()) if s.numel() and s[0] > 0 else 0
        if keep:
            parts.append(vh[:keep].reshape(keep, -1, psi.dim).transpose(0, 1).flatten(1))
            irreps.append((psi, keep))
    features = torch.cat(parts, 1) if parts else vectors.new_zeros(vectors.shape[0], 0)
    return features, Rep(group, irreps)
