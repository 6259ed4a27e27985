r"""Exact unimodular matrices and the elementary moves they are built from.

:math:`B' = BU` spans the same lattice as :math:`B` iff :math:`U` is
unimodular: integer entries and :math:`\det U = \pm 1`. Every function here
works in exact integer arithmetic: NumPy ``int64`` while the result provably
fits (each operation checks a bound first), otherwise NumPy ``object`` arrays
of Python integers, which never overflow. Nothing is ever computed in floats.

Elementary moves act on columns (basis vectors):

* Gauss move :math:`b_j \leftarrow b_j + k\, b_i` (:math:`i \ne j`),
  i.e. :math:`U \leftarrow U (I + k\, e_i e_j^\top)`;
* extended Gauss move :math:`b_j \leftarrow b_j + \sum_{i \ne j} k_i b_i`,
  i.e. :math:`U \leftarrow U (I + k\, e_j^\top)` with :math:`k_j = 0`.

Both factors have determinant exactly 1.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

INT64_LIMIT = 2**62
"""Results are kept in ``int64`` only while a bound proves every entry stays below this."""

FLOAT_EXACT_LIMIT = 2**53
"""Floats are accepted as integers only below this magnitude (where they are exact)."""


def as_integer_matrix(matrix, name: str = "U") -> np.ndarray:
    """Return ``matrix`` as an exact integer array (``int64`` or ``object`` of Python ints).

    Accepts integer NumPy arrays / torch tensors, nested lists of ints, object
    arrays of Python ints and float arrays whose entries are exactly integral
    and below 2**53 in magnitude.

    Raises:
        TypeError: non-integral entries, or floats too large to be exact.
    """
    if isinstance(matrix, torch.Tensor):
        if matrix.is_floating_point() or matrix.is_complex():
            matrix = matrix.detach().cpu().double().numpy()
        else:
            matrix = matrix.detach().cpu().to(torch.int64).numpy()
    arr = np.asarray(matrix) if not isinstance(matrix, np.ndarray) else matrix
    if arr.dtype == object:
        flat = arr.ravel()
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in flat):
            raise TypeError(f"{name} must hold integers only; found "
                            f"{next(type(v).__name__ for v in flat if not isinstance(v, (int, np.integer)))}")
        out = np.empty(arr.shape, dtype=object)
        out.ravel()[:] = [int(v) for v in flat]
        return _shrink(out)
    if np.issubdtype(arr.dtype, np.bool_):
        raise TypeError(f"{name} must hold integers, got booleans")
    if np.issubdtype(arr.dtype, np.integer):
        if arr.dtype == np.uint64 and arr.size and arr.max() >= INT64_LIMIT:
            return _shrink(arr.astype(object))
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise TypeError(f"{name} must hold integers, found non-finite values")
        if arr.size and np.abs(arr).max() >= FLOAT_EXACT_LIMIT:
            raise TypeError(f"{name} has float entries of magnitude >= 2**53, which are not exact "
                            "integers; pass an integer or object array")
        if not np.array_equal(arr, np.round(arr)):
            raise TypeError(f"{name} must hold integers, found non-integral values")
        return arr.astype(np.int64)
    raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")


def _max_abs(arr: np.ndarray) -> int:
    if arr.size == 0:
        return 0
    if arr.dtype == object:
        return max(abs(int(v)) for v in arr.ravel())
    return int(np.abs(arr).max())


def _shrink(arr: np.ndarray) -> np.ndarray:
    """Object array -> int64 when every entry fits (keeps fast paths fast)."""
    if arr.dtype == object and _max_abs(arr) < INT64_LIMIT:
        return arr.astype(np.int64)
    return arr


def _to_object(arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    out.ravel()[:] = [int(v) for v in arr.ravel()]
    return out


def integer_matmul(a, b, name_a: str = "a", name_b: str = "b") -> np.ndarray:
    """Exact integer product ``a @ b`` (batched): ``int64`` when the bound
    ``n * max|a| * max|b| < 2**62`` holds, Python integers otherwise."""
    a, b = as_integer_matrix(a, name_a), as_integer_matrix(b, name_b)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"{name_a} and {name_b} do not compose: shapes {a.shape} and {b.shape}")
    if a.dtype != object and b.dtype != object and \
            a.shape[-1] * _max_abs(a) * _max_abs(b) < INT64_LIMIT:
        return a @ b
    return _shrink(np.matmul(_to_object(a), _to_object(b)))


def gauss_move(matrix, i: int, j: int, k: int) -> np.ndarray:
    r"""Column move :math:`m_j \leftarrow m_j + k\, m_i` (exact); returns a new array."""
    m = as_integer_matrix(matrix, "matrix")
    n = m.shape[-1]
    if not (0 <= i < n and 0 <= j < n) or i == j:
        raise ValueError(f"gauss_move needs two distinct column indices in [0, {n}), got i={i}, j={j}")
    coeffs = np.zeros(n, dtype=object)
    coeffs[i] = int(k)
    return extended_gauss_move(m, j, coeffs)


def extended_gauss_move(matrix, j: int, coeffs) -> np.ndarray:
    r"""Column move :math:`m_j \leftarrow m_j + \sum_{i\ne j} k_i m_i` (exact); ``coeffs[j]`` must be 0."""
    m = as_integer_matrix(matrix, "matrix")
    n = m.shape[-1]
    if not 0 <= j < n:
        raise ValueError(f"extended_gauss_move: column j={j} is outside [0, {n})")
    k = as_integer_matrix(coeffs, "coeffs")
    if k.shape[-1] != n:
        raise ValueError(f"extended_gauss_move: coeffs must have {n} entries, got shape {k.shape}")
    if np.any(k[..., j] != 0):
        raise ValueError("extended_gauss_move: coeffs[j] must be 0 (a move never adds a vector to itself)")
    factor = np.eye(n, dtype=np.int64) if k.dtype != object else _to_object(np.eye(n, dtype=np.int64))
    factor = np.broadcast_to(factor, k.shape[:-1] + (n, n)).copy()
    factor[..., :, j] += k
    return integer_matmul(m, factor, "matrix", "factor")


def integer_determinant(matrix) -> int | np.ndarray:
    """Exact determinant by fraction-free (Bareiss) elimination in Python integers.

    Returns a Python ``int`` for one matrix, an ``object`` array for a batch.
    """
    m = as_integer_matrix(matrix, "matrix")
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"integer_determinant needs square matrices, got shape {m.shape}")
    if m.ndim > 2:
        flat = m.reshape(-1, *m.shape[-2:])
        out = np.empty(flat.shape[0], dtype=object)
        out[:] = [integer_determinant(x) for x in flat]
        return out.reshape(m.shape[:-2])
    a = [[int(v) for v in row] for row in m]
    n, sign, prev = len(a), 1, 1
    for p in range(n - 1):
        if a[p][p] == 0:
            swap = next((r for r in range(p + 1, n) if a[r][p] != 0), None)
            if swap is None:
                return 0
            a[p], a[swap] = a[swap], a[p]
            sign = -sign
        for r in range(p + 1, n):
            for c in range(p + 1, n):
                a[r][c] = (a[r][c] * a[p][p] - a[r][p] * a[p][c]) // prev
        prev = a[p][p]
    return sign * a[-1][-1] if n else 1


def is_unimodular(matrix) -> bool | np.ndarray:
    """``True`` where ``matrix`` is an integer matrix with determinant exactly +1 or -1."""
    try:
        m = as_integer_matrix(matrix, "matrix")
    except TypeError:
        return False
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        return False
    det = integer_determinant(m)
    if m.ndim == 2:
        return abs(det) == 1
    return np.vectorize(lambda d: abs(d) == 1, otypes=[bool])(det)


def check_unimodular(matrix, name: str = "U") -> np.ndarray:
    """Return ``matrix`` as an exact integer array, or raise ``ValueError`` if not unimodular."""
    m = as_integer_matrix(matrix, name)
    ok = np.atleast_1d(is_unimodular(m))
    if not ok.all():
        raise ValueError(f"{name} is not unimodular (|det| != 1) at batch index "
                         f"{np.argwhere(~ok)[0].tolist() if m.ndim > 2 else []}")
    return m


def apply_unimodular(basis, unimodular) -> np.ndarray:
    """The basis ``B @ U``: exact for integer bases (``int64`` or Python ints), float64 otherwise."""
    u = as_integer_matrix(unimodular, "unimodular")
    if isinstance(basis, torch.Tensor):
        basis = basis.detach().cpu().numpy()
    b = np.asarray(basis)
    if np.issubdtype(b.dtype, np.integer) or b.dtype == object:
        return integer_matmul(b, u, "basis", "unimodular")
    return np.asarray(b, dtype=np.float64) @ u.astype(np.float64)


def _solve_exact(a: list[list[int]], b: list[list[int]]) -> list[list[Fraction]]:
    """Solve ``a x = b`` over the rationals (Gauss-Jordan on Fractions)."""
    n = len(a)
    rows = [[Fraction(v) for v in a[r]] + [Fraction(v) for v in b[r]] for r in range(n)]
    for p in range(n):
        piv = next((r for r in range(p, n) if rows[r][p] != 0), None)
        if piv is None:
            raise ValueError("the first basis is singular")
        rows[p], rows[piv] = rows[piv], rows[p]
        inv = 1 / rows[p][p]
        rows[p] = [v * inv for v in rows[p]]
        for r in range(n):
            if r != p and rows[r][p] != 0:
                f = rows[r][p]
                rows[r] = [v - f * w for v, w in zip(rows[r], rows[p])]
    return [row[n:] for row in rows]


def same_lattice(basis_a, basis_b, rtol: float = 1e-8) -> bool:
    """``True`` iff the two bases (one pair, ``[n, n]``) span the same lattice.

    Integer bases are compared exactly: :math:`X = A^{-1}B` is computed over the
    rationals and must be integer with :math:`\\det X = \\pm 1`. Float bases are
    compared up to ``rtol``: :math:`X` must be within ``rtol`` of an integer
    matrix that is exactly unimodular.
    """
    a, b = np.asarray(basis_a), np.asarray(basis_b)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"same_lattice compares two [n, n] bases, got {a.shape} and {b.shape}")
    exact = all(np.issubdtype(x.dtype, np.integer) or x.dtype == object for x in (a, b))
    if exact:
        x = _solve_exact(as_integer_matrix(a, "basis_a").tolist(), as_integer_matrix(b, "basis_b").tolist())
        if any(v.denominator != 1 for row in x for v in row):
            return False
        return abs(integer_determinant(np.array([[int(v) for v in row] for row in x], dtype=object))) == 1
    x = np.linalg.solve(a.astype(np.float64), b.astype(np.float64))
    r = np.round(x)
    if np.abs(x - r).max() > rtol * max(1.0, np.abs(x).max()):
        return False
    return bool(is_unimodular(r))
