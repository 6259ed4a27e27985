"""Equivariant linear maps: intertwiner spaces, Hom bases and Clebsch-Gordan maps.

All are solved numerically in float64, once, and cached: ``X`` intertwines
``rho_in`` and ``rho_out`` iff ``rho_out(g) X = X rho_in(g)`` for the group's
generators, i.e. ``vec(X)`` lies in the kernel of
``sum_g M_g^T M_g`` with ``M_g = rho_out(g) (x) I - I (x) rho_in(g)^T``.
The kernel is returned in a canonical orthonormal basis that depends only on
the subspace (Gram-Schmidt on the columns of its orthogonal projector), so the
same group and representations always give the same basis.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

import torch
from torch import Tensor

from topoequi.symmetry.group import Group, Irrep

NULL_TOL = 1e-9  # eigenvalues of sum_g M_g^T M_g below this span the kernel


def canonical_basis(projector: Tensor, k: int) -> Tensor:
    """An orthonormal basis ``[k, n]`` of the range of an orthogonal projector,
    from Gram-Schmidt on its columns in index order (basis-independent)."""
    basis: list[Tensor] = []
    for col in projector.T:
        v = col.clone()
        for b in basis:
            v -= (b @ v) * b
        norm = v.norm()
        if norm > 1e-6:
            basis.append(v / norm)
            if len(basis) == k:
                break
    return torch.stack(basis) if basis else projector.new_zeros(0, projector.shape[0])


def intertwiner_basis(rho_out: Callable[[Tensor], Tensor], rho_in: Callable[[Tensor], Tensor],
                      group: Group) -> Tensor:
    """Orthonormal basis ``[k, d_out, d_in]`` of ``{X : rho_out(g) X = X rho_in(g) for all g}``.

    ``rho_out`` and ``rho_in`` map ``[B, d, d]`` elements to their matrices.
    """
    gens = group.cached_generators
    a, b = rho_out(gens).to(torch.float64), rho_in(gens).to(torch.float64)
    d_out, d_in = a.shape[-1], b.shape[-1]
    eye_in, eye_out = torch.eye(d_in, dtype=torch.float64), torch.eye(d_out, dtype=torch.float64)
    m = (torch.einsum("gik,jl->gijkl", a, eye_in) - torch.einsum("ik,glj->gijkl", eye_out, b))
    m = m.reshape(a.shape[0] * d_out * d_in, d_out * d_in)
    gram = m.T @ m
    evals, evecs = torch.linalg.eigh(gram)
    kernel = evecs[:, evals < NULL_TOL * max(1.0, evals.abs().max().item())]
    if kernel.shape[1] == 0:
        return torch.zeros(0, d_out, d_in, dtype=torch.float64)
    return canonical_basis(kernel @ kernel.T, kernel.shape[1]).reshape(-1, d_out, d_in)


@cache
def endomorphism_basis(irrep: Irrep) -> Tensor:
    """Basis ``[type_dim, dim, dim]`` of the maps commuting with ``irrep``; the first is the identity."""
    basis = intertwiner_basis(irrep.matrices, irrep.matrices, irrep.group)
    if basis.shape[0] != irrep.type_dim:
        raise RuntimeError(f"{irrep}: endomorphism space has dimension {basis.shape[0]}, expected "
                           f"{irrep.type_dim}; is it irreducible?")
    eye = torch.eye(irrep.dim, dtype=torch.float64)
    rest = basis - torch.einsum("kij,ij->k", basis, eye)[:, None, None] * eye / irrep.dim
    u, s, _ = torch.linalg.svd(rest.flatten(1).T, full_matrices=False)
    u = u[:, s > 1e-8]
    others = canonical_basis(u @ u.T, u.shape[1]).reshape(-1, irrep.dim, irrep.dim)
    return torch.cat([eye[None], others * irrep.dim**0.5])


@cache
def clebsch_gordan(irrep1: Irrep, irrep2: Irrep, irrep3: Irrep) -> Tensor:
    """Basis ``[n, d3, d1, d2]`` of equivariant maps ``irrep1 (x) irrep2 -> irrep3``.

    Each map ``C`` (as a ``d3 x d1 d2`` matrix) is normalized to ``C C^T = I``;
    ``n = 0`` when ``irrep3`` does not occur in the product.
    """
    group = irrep1.group
    if not (irrep2.group == group == irrep3.group):
        raise ValueError(f"clebsch_gordan: irreps of different groups: {irrep1}, {irrep2}, {irrep3}")

    def product(g: Tensor) -> Tensor:
        a, b = irrep1.matrices(g), irrep2.matrices(g)
        return torch.einsum("bij,bkl->bikjl", a, b).reshape(g.shape[0], a.shape[1] * b.shape[1], -1)

    basis = intertwiner_basis(irrep3.matrices, product, group)
    basis = basis * irrep3.dim**0.5  # unit Frobenius norm -> C C^T = I (C C^T commutes with irrep3)
    return basis.reshape(-1, irrep3.dim, irrep1.dim, irrep2.dim)


def hom_basis(rep_in, rep_out) -> Tensor:
    """Basis ``[n, rep_out.dim, rep_in.dim]`` of the equivariant linear maps ``rep_in -> rep_out``.

    Built block by block: for every pair of copies of the same irrep psi in the
    two representations, the endomorphisms of psi; then the change of basis of
    both sides is applied.
    """
    if rep_in.group != rep_out.group:
        raise ValueError(f"hom_basis: representations of different groups ({rep_in.group}, {rep_out.group})")
    out_blocks, in_blocks = rep_out.copy_offsets(), rep_in.copy_offsets()
    mats = []
    for psi, out_starts in out_blocks.items():
        if psi not in in_blocks:
            continue
        ends = endomorphism_basis(psi)
        for o in out_starts:
            for i in in_blocks[psi]:
                for e in ends:
                    m = torch.zeros(rep_out.dim, rep_in.dim, dtype=torch.float64)
                    m[o:o + psi.dim, i:i + psi.dim] = e
                    mats.append(m)
    if not mats:
        return torch.zeros(0, rep_out.dim, rep_in.dim, dtype=torch.float64)
    basis = torch.stack(mats)
    return rep_out.change_of_basis_or_eye() @ basis @ rep_in.change_of_basis_or_eye().T
