r"""LLL through fpylll (the reference fplll C++ implementation); optional extra ``lattice``.

fpylll stores basis vectors as **rows** of an integer matrix; topoequi uses
columns, so bases are transposed on the way in and out. Float bases are
reduced through an integer approximation :math:`\lfloor 2^s B \rceil`
(``scale_bits`` :math:`s`, scaled so the largest entry has about
``precision_bits`` bits); the unimodular :math:`U` found for it is applied to
the float basis exactly as given. Entries pass to fplll as Python integers,
so integer bases of any size are handled exactly.
"""
from __future__ import annotations

import numpy as np

from topoequi.lattice.basis import check_basis
from topoequi.lattice.unimodular import apply_unimodular, as_integer_matrix
from topoequi.typing import WITH_FPYLLL


def _require_fpylll():
    if not WITH_FPYLLL:
        raise ImportError("fpylll_lll needs fpylll: pip install 'topoequi[lattice]' "
                          "(fpylll and cysignals)")
    import fpylll

    return fpylll


def integer_approximation(basis: np.ndarray, precision_bits: int = 40) -> np.ndarray:
    """``round(2**s * basis)`` as Python integers (object array) with ``max|entry|`` about ``2**precision_bits``."""
    if not 8 <= precision_bits <= 1000:
        raise ValueError(f"precision_bits must be in [8, 1000], got {precision_bits}")
    top = np.abs(basis).max()
    shift = precision_bits - int(np.ceil(np.log2(top))) if top > 0 else 0
    scaled = np.ldexp(basis.astype(np.float64), shift)
    out = np.empty(basis.shape, dtype=object)
    out.ravel()[:] = [round(v) for v in scaled.ravel()]
    return out


def fpylll_lll(bases, delta: float = 0.99, eta: float = 0.51,
               precision_bits: int = 40) -> tuple[np.ndarray, np.ndarray]:
    r"""LLL-reduce ``[n, n]`` or ``[b, n, n]`` bases (columns) with fpylll, one basis at a time.

    Returns:
        ``(reduced, U)``: ``reduced = bases @ U`` (exact for integer input) and
        ``U`` exactly unimodular (``int64``, or Python integers if larger).
    """
    fpylll = _require_fpylll()
    if not 0.25 < delta <= 1 or not 0.5 <= eta < np.sqrt(delta):
        raise ValueError(f"fpylll_lll needs 1/4 < delta <= 1 and 1/2 <= eta < sqrt(delta), "
                         f"got delta={delta}, eta={eta}")
    arr = check_basis(bases, "bases")
    single = arr.ndim == 2
    batch = arr[None] if single else arr
    if batch.ndim != 3:
        raise ValueError(f"bases must be [n, n] or [b, n, n], got shape {arr.shape}")
    n = batch.shape[-1]
    integer = np.issubdtype(batch.dtype, np.integer)
    us = []
    for b in batch:
        ints = as_integer_matrix(b) if integer else integer_approximation(b, precision_bits)
        mat = fpylll.IntegerMatrix.from_matrix([[int(v) for v in row] for row in ints.T])
        trans = fpylll.IntegerMatrix.identity(n)
        fpylll.LLL.reduction(mat, trans, delta=delta, eta=eta)
        # fplll acts on rows: B_rows' = T B_rows, so in columns B' = B T^T.
        rows = [[trans[i, j] for j in range(n)] for i in range(n)]
        us.append(as_integer_matrix(np.array(rows, dtype=object).T))
    u = np.stack(us) if all(x.dtype == np.int64 for x in us) else np.stack([x.astype(object) for x in us])
    reduced = apply_unimodular(batch, u)
    return (reduced[0], u[0]) if single else (reduced, u)
