"""Fourier transforms on a group, for band-limited functions.

A band-limited function on G is stored by its Fourier coefficients, a feature
of the band-limited regular representation ``G.regular_rep(L)``: for each irrep
psi of frequency <= L, a ``dim(psi) x m(psi)`` matrix ``F_psi`` with
``m(psi) = dim(psi) / type_dim(psi)`` columns, stored column by column. The
function is

    f(g) = sum_psi sqrt(dim psi) sum_c < F_psi[:, c], psi(g)[:, c] >,

an expansion in matrix coefficients that are orthonormal for the Haar
probability measure. The regular action ``(h . f)(g) = f(h^-1 g)`` is the
left multiplication ``F_psi -> psi(h) F_psi``, i.e. exactly ``regular_rep(h)``.
Evaluating at samples ``g_1..g_N`` is the matrix ``A`` (``A[n] = A(g_n)``);
:class:`GroupFourier` maps coefficients to samples (``x = A f``) and back by
least squares (``f = A^+ x``).
"""
from __future__ import annotations

import torch
from torch import Tensor

from topoequi.symmetry.representation import Rep


def check_regular(rep: Rep) -> None:
    """Raise unless ``rep`` is a band-limited regular representation (irreps basis, right multiplicities)."""
    expected = {psi: psi.dim // psi.type_dim for psi, _ in rep.irreps}
    got: dict = {}
    for psi, m in rep.irreps:
        got[psi] = got.get(psi, 0) + m
    freqs = {psi.frequency for psi in got}
    top = max(freqs) if freqs else -1
    complete = {psi for psi in rep.group.irreps(None if rep.group.is_finite else top)
                if psi.frequency <= top}
    if rep.change_of_basis is not None or got != expected or set(got) != complete:
        raise ValueError(f"{rep} is not a band-limited regular representation of {rep.group}; "
                         f"build one with {rep.group.name}.regular_rep(max_frequency)")


def sampling_matrix(rep: Rep, elements: Tensor) -> Tensor:
    """``A [N, rep.dim]``: row n evaluates the band-limited function with coefficients f at ``elements[n]``."""
    check_regular(rep)
    g = rep.group.check_elements(elements)
    rows = []
    for psi, m in rep.irreps:
        cols = psi.matrices(g)[:, :, :m]  # [N, d, m]: the m columns used by this block
        rows.append(cols.transpose(1, 2).reshape(g.shape[0], -1) * psi.dim**0.5)
    return torch.cat(rows, dim=1)


class GroupFourier:
    """Fourier transform between coefficients in ``rep`` and samples at ``elements``.

    Args:
        rep: a band-limited regular representation, ``G.regular_rep(L)``.
        elements: ``[N, d, d]`` group samples; ``N >= rep.dim`` and the samples
            must determine every band-limited function (full column rank).

    ``inverse(f)`` evaluates coefficients ``[..., rep.dim]`` at the samples
    (``[..., N]``); ``forward(x)`` is the least-squares inverse.
    """

    def __init__(self, rep: Rep, elements: Tensor, rcond: float = 1e-10):
        self.rep = rep
        a = sampling_matrix(rep, elements.to(torch.float64))
        n = a.shape[0]
        if n < rep.dim:
            raise ValueError(f"GroupFourier: {n} samples cannot resolve a band-limited function with "
                             f"{rep.dim} coefficients; at least {rep.dim} are needed")
        s = torch.linalg.svdvals(a)
        if s[-1] <= rcond * s[0]:
            raise ValueError(f"GroupFourier: the {n} samples do not determine all {rep.dim} coefficients "
                             f"(rank-deficient sampling matrix, condition {float(s[0] / s[-1]):.3g}); "
                             f"use more or better-spread samples")
        self.elements = elements
        self.matrix = a.to(elements.dtype)
        self.pinv = torch.linalg.pinv(a).to(elements.dtype)
        self.condition_number = float(s[0] / s[-1])

    def inverse(self, coefficients: Tensor) -> Tensor:
        """Coefficients ``[..., dim]`` -> function values at the samples ``[..., N]``."""
        self.rep.check_features(coefficients, "coefficients")
        return coefficients @ self.matrix.to(coefficients).T

    def forward(self, values: Tensor) -> Tensor:
        """Values at the samples ``[..., N]`` -> least-squares coefficients ``[..., dim]``."""
        if values.shape[-1] != self.matrix.shape[0]:
            raise ValueError(f"GroupFourier.forward: values must have last dimension {self.matrix.shape[0]} "
                             f"(number of samples), got {list(values.shape)}")
        return values @ self.pinv.to(values).T
