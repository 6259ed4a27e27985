r"""Batched unimodular column moves on Gram matrices (torch), the building blocks of neural reduction.

One reduction step sorts the basis vectors by length (ties by index) and lets
every vector :math:`b_j` be changed only by strictly shorter ones:

.. math::
    b_j \leftarrow b_j + \sum_{i \prec j} K_{ij}\, b_i,
    \qquad T = I + K, \quad K_{ij} \in \mathbb{Z},\ K_{ij} = 0 \text{ unless } i \prec j .

In the sorted order :math:`T` is unit upper triangular, so
:math:`\det T = 1` exactly whatever the integers :math:`K_{ij}` are: the step
is a product of extended Gauss moves (column :math:`j` from last to first).
Everything is computed from the Gram matrix :math:`G = B^\top B`, so it is
invariant to isometries; under a signed permutation of the basis
(:math:`G \mapsto S P^\top G P S`) the coefficients transform as
:math:`K \mapsto S P^\top K P S` (up to ties in the length order).

Two classical proposals are provided: the best single Gauss move per column
(pairwise Lagrange step) and Babai rounding of the projection of :math:`b_j`
onto the span of the shorter vectors. :func:`select_columns` keeps, per
column, whichever proposal shortens it most, or none, so the product of
lengths (hence the orthogonality defect) never increases.
"""
from __future__ import annotations

import torch
from torch import Tensor


def norm_order_mask(gram: Tensor) -> Tensor:
    r"""``mask[..., i, j] = True`` iff :math:`b_i` precedes :math:`b_j` in (length, index) order."""
    diag = torch.diagonal(gram, dim1=-2, dim2=-1)
    rank = torch.argsort(torch.argsort(diag, dim=-1, stable=True), dim=-1)
    return rank[..., :, None] < rank[..., None, :]


def pairwise_coefficients(gram: Tensor) -> Tensor:
    r""":math:`\mu_{ij} = G_{ij} / G_{ii}`: the multiple of :math:`b_i` closest to :math:`b_j` is
    :math:`\lfloor\mu_{ij}\rceil b_i`."""
    return gram / torch.diagonal(gram, dim1=-2, dim2=-1)[..., :, None]


def projection_coefficients(gram: Tensor, mask: Tensor) -> Tensor:
    r"""Coefficients :math:`P_{\cdot j}` of the orthogonal projection of :math:`b_j` onto
    :math:`\mathrm{span}\{b_i : i \prec j\}`.

    ``mask`` must be :func:`norm_order_mask` of ``gram``. In the length order the sets
    :math:`\{i \prec j\}` are prefixes, so with the Cholesky factor :math:`G = R^\top R`
    of the sorted Gram matrix all columns at once are :math:`P = R^{-1}\,\mathrm{triu}_1(R)`
    (:math:`O(n^3)`); where Cholesky fails numerically each column's system
    :math:`G_{SS}\,x = G_{Sj}` is solved directly. :math:`P_{ij} = 0` for :math:`i \not\prec j`.
    """
    diag = torch.diagonal(gram, dim1=-2, dim2=-1)
    perm = torch.argsort(diag, dim=-1, stable=True)
    rows = perm[..., :, None].expand_as(gram)
    sorted_gram = torch.gather(torch.gather(gram, -2, rows), -1, perm[..., None, :].expand_as(gram))
    chol, info = torch.linalg.cholesky_ex(sorted_gram, upper=True)
    coeffs = torch.linalg.solve_triangular(chol, torch.triu(chol, 1), upper=True)
    inverse = torch.argsort(perm, dim=-1)
    out = torch.gather(torch.gather(coeffs, -2, inverse[..., :, None].expand_as(gram)), -1,
                       inverse[..., None, :].expand_as(gram))
    failed = info != 0
    if torch.any(failed):
        out = out.clone()
        out[failed] = _projection_by_solve(gram[failed], mask[failed])
    return out * mask


def _projection_by_solve(gram: Tensor, mask: Tensor) -> Tensor:
    m = mask.transpose(-1, -2).to(gram.dtype)  # [..., j, i]
    system = gram[..., None, :, :] * m[..., :, None] * m[..., None, :] + torch.diag_embed(1 - m)
    rhs = gram.transpose(-1, -2) * m
    return torch.linalg.solve(system, rhs[..., None])[..., 0].transpose(-1, -2)


def column_norms_after(gram: Tensor, moves: Tensor) -> Tensor:
    r"""Squared lengths :math:`\mathrm{diag}\big((I+K)^\top G (I+K)\big)` after the moves ``K``."""
    t = moves + torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    return (t * (gram @ t)).sum(-2)


def best_gauss_move(gram: Tensor, mask: Tensor) -> Tensor:
    r"""Per column :math:`j`, the single move :math:`b_j \leftarrow b_j - \lfloor\mu_{ij}\rceil b_i`
    (:math:`i \prec j`) that shortens :math:`b_j` most (all zeros if none does)."""
    diag = torch.diagonal(gram, dim1=-2, dim2=-1)
    k = torch.round(pairwise_coefficients(gram)) * mask
    gain = 2 * k * gram - k * k * diag[..., :, None]  # ||b_j||^2 - ||b_j - k b_i||^2
    best = gain.argmax(-2, keepdim=True)
    return torch.zeros_like(gram).scatter(-2, best, -torch.gather(k, -2, best))


def babai_move(gram: Tensor, mask: Tensor) -> Tensor:
    r""":math:`K = -\lfloor P \rceil`: Babai rounding of the projection onto the shorter vectors."""
    return -torch.round(projection_coefficients(gram, mask))


def select_columns(gram: Tensor, proposals: list[Tensor], rtol: float = 1e-12) -> Tensor:
    r"""Per column, the proposal that shortens it most; the zero move where none shortens it by more than ``rtol``.

    All proposals must respect the same length order (supported on ``mask``),
    so the result is again unit triangular in that order: exactly unimodular.
    """
    diag = torch.diagonal(gram, dim1=-2, dim2=-1)
    best_norm, best = diag * (1 - rtol), torch.zeros_like(gram)
    for moves in proposals:
        norms = column_norms_after(gram, moves)
        better = norms < best_norm
        best = torch.where(better[..., None, :], moves, best)
        best_norm = torch.where(better, norms, best_norm)
    return best
