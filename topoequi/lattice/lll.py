r"""A batched reference LLL in NumPy float64, and an exact LLL-reducedness check.

A basis (columns :math:`b_1..b_n`) with Gram-Schmidt vectors :math:`b_i^*` and
coefficients :math:`\mu_{ij} = \langle b_i, b_j^*\rangle / \lVert b_j^*\rVert^2`
is LLL-reduced with parameters :math:`(\delta, \eta)` when it is

* size-reduced: :math:`|\mu_{ij}| \le \eta` for all :math:`j < i`, and
* Lovász: :math:`\lVert b_i^*\rVert^2 \ge (\delta - \mu_{i,i-1}^2)\lVert b_{i-1}^*\rVert^2`.

:func:`lll_reduce` runs the textbook algorithm on a whole batch at once, each
basis with its own current index :math:`k`. Gram-Schmidt is kept as the
triangular factor :math:`R` of :math:`B = QR` (:math:`\mu_{ij} = R_{ji}/R_{jj}`,
:math:`\lVert b_j^*\rVert = |R_{jj}|`): a size-reduction step is a column
operation on :math:`R`, a swap is a column swap followed by one Givens
rotation, so each step costs :math:`O(n)` per basis. The transformation
:math:`U` is tracked exactly (``int64``; for integer bases, Python integers
once ``int64`` could overflow); :math:`R` is recomputed from the current basis
:math:`B_0 U` (exact for integer bases, then rescaled by a power of two, see
:func:`~topoequi.lattice.basis.scaled_float`) after large size-reduction
coefficients and before the result is accepted, so the output always satisfies
the conditions checked on fresh Gram-Schmidt data, whatever the scale of the
input and however large its integer entries.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from topoequi.lattice.basis import check_basis, is_integer_array, scaled_float
from topoequi.lattice.unimodular import INT64_LIMIT, as_integer_matrix, integer_matmul

U_LIMIT = 2**40
"""For float bases, entries of the LLL transformation beyond this raise ``OverflowError``
(outside the supported range: the float product :math:`B_0 U` no longer means anything)."""

_REFRESH_COEFF = 2.0**10
"""Size-reduction coefficients larger than this trigger a fresh QR (cancellation loses bits)."""


def _fresh_r(b0: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``R`` of the current bases ``b0 @ u`` (exact product for integer ``b0``), rescaled per basis."""
    current = integer_matmul(b0, u) if is_integer_array(b0) else b0 @ u.astype(np.float64)
    return np.linalg.qr(scaled_float(current)[0], mode="r")


def _size_reduce(r: np.ndarray, u: np.ndarray, idx: np.ndarray, kk: np.ndarray) -> np.ndarray:
    """Size-reduce column ``kk[t]`` of basis ``idx[t]`` in place; return max |coefficient| per basis."""
    n = r.shape[-1]
    biggest = np.zeros(idx.size)
    for j in range(n - 2, -1, -1):
        rows = np.nonzero(j < kk)[0]
        if rows.size == 0:
            continue
        s, ks = idx[rows], kk[rows]
        q = np.rint(r[s, j, ks] / r[s, j, j])
        nz = q != 0
        if not nz.any():
            continue
        rows, s, ks, q = rows[nz], s[nz], ks[nz], q[nz]
        if u.dtype == object:
            qi = np.array([int(v) for v in q], dtype=object)
        elif np.abs(q).max() * (np.abs(u[s]).max() + 1) < INT64_LIMIT:
            qi = q.astype(np.int64)
        else:
            raise OverflowError("lll_reduce: the transformation leaves the int64 range")
        r[s, :, ks] -= q[:, None] * r[s, :, j]
        u[s, :, ks] -= qi[:, None] * u[s, :, j]
        biggest[rows] = np.maximum(biggest[rows], np.abs(q))
    return biggest


def _swap(r: np.ndarray, u: np.ndarray, s: np.ndarray, ks: np.ndarray) -> None:
    """Swap columns ``ks-1`` and ``ks`` of bases ``s`` and restore triangular ``R`` by a Givens rotation."""
    a = ks - 1
    for m in (r, u):
        col = m[s, :, a].copy()
        m[s, :, a] = m[s, :, ks]
        m[s, :, ks] = col
    x, y = r[s, a, a], r[s, ks, a]
    h = np.hypot(x, y)
    c, sn = (x / h)[:, None], (y / h)[:, None]
    row_a, row_k = r[s, a, :].copy(), r[s, ks, :].copy()
    r[s, a, :] = c * row_a + sn * row_k
    r[s, ks, :] = -sn * row_a + c * row_k
    r[s, ks, a] = 0.0


def _satisfied(r: np.ndarray, delta: float, tol: float = 1e-9) -> np.ndarray:
    """Per basis: size-reduced (|mu| <= 1/2 + tol) and Lovász (with relative slack tol) on ``R``."""
    diag = np.diagonal(r, axis1=-2, axis2=-1)
    mu = r / diag[..., :, None]
    upper = np.triu(np.ones(r.shape[-2:], dtype=bool), 1)
    size_ok = (np.abs(mu) <= 0.5 + tol)[..., upper].all(-1) if r.shape[-1] > 1 else np.ones(r.shape[0], bool)
    sq = diag**2
    sup = np.diagonal(r, offset=1, axis1=-2, axis2=-1)
    lovasz_ok = (sq[..., 1:] + sup**2 >= delta * sq[..., :-1] * (1 - tol)).all(-1)
    return size_ok & lovasz_ok


def lll_reduce(bases, delta: float = 0.99, max_rounds: int = 100) -> tuple[np.ndarray, np.ndarray]:
    r"""LLL-reduce one basis ``[n, n]`` or a batch ``[b, n, n]`` (columns are basis vectors).

    Args:
        bases: integer (``int64``, or ``object`` arrays of Python integers of any size) or float bases.
        delta: Lovász parameter, :math:`1/4 < \delta \le 1` (default 0.99).
        max_rounds: limit on restarts after a fresh Gram-Schmidt check fails.

    Returns:
        ``(reduced, U)`` with ``reduced = bases @ U`` (exact integers for integer
        input, float64 otherwise) and ``U`` exactly unimodular (``int64``, or
        Python integers when an integer basis needs larger entries).

    Raises:
        ValueError: bad ``delta``, an empty batch, or a non-square, non-finite or singular basis.
        OverflowError: a float basis whose transformation leaves the supported range (entries > 2**40).
    """
    if not 0.25 < delta <= 1:
        raise ValueError(f"delta must be in (1/4, 1], got {delta}")
    arr = check_basis(bases, "bases")
    single = arr.ndim == 2
    if arr.ndim > 3:
        raise ValueError(f"bases must be [n, n] or [b, n, n], got shape {arr.shape}")
    b0 = arr[None] if single else arr
    exact = is_integer_array(b0)
    work = b0 if exact else scaled_float(b0)[0]  # power-of-two rescaling: the same U at any scale
    eye = np.eye(b0.shape[-1], dtype=np.int64)
    try:
        u = _lll_loop(work, np.broadcast_to(eye, b0.shape).copy(), delta, max_rounds, exact)
    except OverflowError:
        if not exact:
            raise
        # int64 would overflow: start again with Python integers
        u = _lll_loop(work, np.broadcast_to(eye.astype(object), b0.shape).copy(), delta, max_rounds, exact)
    reduced = integer_matmul(b0, u) if exact else b0.astype(np.float64) @ u.astype(np.float64)
    return (reduced[0], u[0]) if single else (reduced, u)


def _lll_loop(b0: np.ndarray, u: np.ndarray, delta: float, max_rounds: int, exact: bool) -> np.ndarray:
    """The batched LLL iterations from ``U = u``; returns the final ``U``."""
    n = b0.shape[-1]
    r = _fresh_r(b0, u)
    k = np.ones(b0.shape[0], dtype=np.int64)
    rounds = 0
    while n > 1:
        idx = np.nonzero(k < n)[0]
        if idx.size == 0:
            r = _fresh_r(b0, u)
            bad = ~_satisfied(r, delta)
            if not bad.any():
                break
            rounds += 1
            if rounds > max_rounds:
                raise RuntimeError(f"lll_reduce did not converge in {max_rounds} rounds (numerically unstable input)")
            k[bad] = 1
            continue
        kk = k[idx]
        big = _size_reduce(r, u, idx, kk)
        while np.any(big > _REFRESH_COEFF):
            again = big > _REFRESH_COEFF
            r[idx[again]] = _fresh_r(b0[idx[again]], u[idx[again]])
            big[:] = 0
            big[again] = _size_reduce(r, u, idx[again], kk[again])
        if not exact and np.abs(u[idx]).max() > U_LIMIT:
            raise OverflowError("lll_reduce: transformation entries exceed 2**40 (supported range for float "
                                "bases); the input basis is too ill-conditioned")
        lhs = r[idx, kk, kk] ** 2 + r[idx, kk - 1, kk] ** 2
        ok = lhs >= delta * r[idx, kk - 1, kk - 1] ** 2
        k[idx[ok]] += 1
        sw = ~ok
        if sw.any():
            _swap(r, u, idx[sw], kk[sw])
            k[idx[sw]] = np.maximum(kk[sw] - 1, 1)
    return u


def _exact_gram_schmidt(basis) -> tuple[list[list[Fraction]], list[Fraction]]:
    """Exact :math:`\\mu_{ij}` and :math:`\\lVert b_i^*\\rVert^2` of an integer basis (columns), over the rationals."""
    b = as_integer_matrix(basis, "basis")
    gram = integer_matmul(b.T, b)
    n = b.shape[0]
    mu = [[Fraction(0)] * n for _ in range(n)]
    norms: list[Fraction] = []
    for i in range(n):
        for j in range(i):
            rij = Fraction(int(gram[i, j])) - sum(mu[j][t] * mu[i][t] * norms[t] for t in range(j))
            mu[i][j] = rij / norms[j]
        norms.append(Fraction(int(gram[i, i])) - sum(mu[i][t] ** 2 * norms[t] for t in range(i)))
    return mu, norms


def is_lll_reduced(basis, delta: float = 0.99, eta: float = 0.5, tol: float = 1e-9) -> bool:
    r"""Whether ``basis`` ``[n, n]`` is :math:`(\delta, \eta)`-LLL-reduced.

    Integer bases are checked exactly (rational Gram-Schmidt, ``delta`` and
    ``eta`` taken as the exact binary values of the floats given); float bases
    on a fresh float64 QR with relative slack ``tol``.
    """
    arr = check_basis(basis, "basis")
    if arr.ndim != 2:
        raise ValueError(f"is_lll_reduced checks one basis [n, n], got shape {arr.shape}")
    n = arr.shape[0]
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == object:
        mu, norms = _exact_gram_schmidt(arr)
        d, e = Fraction(delta), Fraction(eta)
        size_ok = all(abs(mu[i][j]) <= e for i in range(n) for j in range(i))
        lovasz_ok = all(norms[i] >= (d - mu[i][i - 1] ** 2) * norms[i - 1] for i in range(1, n))
        return size_ok and lovasz_ok
    r = np.linalg.qr(scaled_float(arr)[0], mode="r")
    diag = np.diag(r)
    mu = r / diag[:, None]
    size_ok = bool(np.all(np.abs(mu[np.triu_indices(n, 1)]) <= eta + tol))
    sup = np.diag(r, 1)
    lovasz_ok = bool(np.all(diag[1:] ** 2 >= (delta - (sup / diag[:-1]) ** 2) * diag[:-1] ** 2 * (1 - tol)))
    return size_ok and lovasz_ok
