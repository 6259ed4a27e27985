r"""Lattice bases: validation and the orthogonality defect.

A basis is a full-rank square matrix :math:`B = [b_1 \dots b_n]` whose
**columns** are the basis vectors; a batch is an array of shape
``[..., n, n]``. The orthogonality defect

.. math::
    \delta(B) = \frac{\prod_i \lVert b_i \rVert}{\lvert \det B \rvert} \ge 1

equals 1 exactly when the basis is orthogonal. It is computed in log space,
:math:`\log\delta = \sum_i \log\lVert b_i\rVert - \log\lvert\det B\rvert`,
with ``slogdet`` so that neither the product of norms nor the determinant
overflows. Only the Gram matrix :math:`G = B^\top B` is needed:
:math:`\log\delta = \tfrac12 \sum_i \log G_{ii} - \tfrac12 \log\det G`.

Scale never matters: floating-point work starts from :func:`scaled_float`,
:math:`2^{-e}B` with the largest entry in :math:`[1/2, 1)`, an exact
rescaling for floats (a basis scaled by 1e200 or 1e-200 is handled like the
basis itself) and a correctly rounded one for integers of any size. Integer
bases are judged exactly: singular means determinant 0 (fraction-free
elimination), and their defect uses exact norms and determinant.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from topoequi.lattice.unimodular import FLOAT_EXACT_LIMIT, integer_determinant

MAX_CONDITION = 1e12
"""Bases whose 2-norm condition number exceeds this are rejected as (nearly) singular:
beyond it float64 Gram-Schmidt has fewer than ~4 correct digits."""


def _as_numpy(basis, name: str) -> np.ndarray:
    if isinstance(basis, torch.Tensor):
        basis = basis.detach().cpu().numpy()
    if not isinstance(basis, np.ndarray):
        try:
            basis = np.asarray(basis)
        except Exception as exc:
            raise TypeError(f"{name} must be an array of numbers, got {type(basis).__name__}") from exc
    if basis.dtype == object:
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in basis.ravel()):
            raise TypeError(f"{name}: an object array must hold Python integers only")
        return basis
    if not (np.issubdtype(basis.dtype, np.integer) or np.issubdtype(basis.dtype, np.floating)):
        raise TypeError(f"{name} must hold integers or floats, got dtype {basis.dtype}")
    return basis


def is_integer_array(arr: np.ndarray) -> bool:
    """Whether ``arr`` holds exact integers (an integer dtype, or ``object`` of Python integers)."""
    return arr.dtype == object or np.issubdtype(arr.dtype, np.integer)


def scaled_float(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``(2^{-e} B, e)`` per basis of ``[..., n, n]``: float64 with the largest entry in :math:`[1/2, 1)`.

    Exact for floats (scaling by a power of two), correctly rounded for integers of any size
    (``object`` arrays are divided as Python integers). ``e`` is ``[...]`` (``int64``; 0 for a zero basis).
    """
    if arr.dtype == object:
        flat = arr.reshape(-1, arr.shape[-2] * arr.shape[-1])
        exps = np.array([max(abs(int(v)).bit_length() for v in row) for row in flat], dtype=np.int64)
        out = np.array([[int(v) / (1 << int(e)) for v in row] for row, e in zip(flat, exps)], dtype=np.float64)
        return out.reshape(arr.shape), exps.reshape(arr.shape[:-2])
    arr = arr.astype(np.float64)
    exps = np.frexp(np.abs(arr).max((-2, -1)) if arr.size else np.zeros(arr.shape[:-2]))[1].astype(np.int64)
    return np.ldexp(arr, -exps[..., None, None]), exps


def _singular(arr: np.ndarray, max_condition: float) -> tuple[np.ndarray, np.ndarray]:
    """Per basis: whether it is (nearly) singular, and its condition number (``inf`` if exactly singular)."""
    flat = arr.reshape(-1, *arr.shape[-2:])
    cond = np.linalg.cond(scaled_float(flat)[0])
    bad = ~(cond <= max_condition)
    if is_integer_array(flat):  # exact verdict where floats cannot give one
        unsure = bad | (_max_abs_per_basis(flat) >= FLOAT_EXACT_LIMIT)
        for i in np.nonzero(unsure)[0]:
            bad[i] = integer_determinant(flat[i]) == 0
            cond[i] = np.inf if bad[i] else cond[i]
    return bad.reshape(arr.shape[:-2]), cond.reshape(arr.shape[:-2])


def _max_abs_per_basis(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object:
        return np.vectorize(lambda v: abs(int(v)), otypes=[object])(arr).max((-2, -1))
    return np.abs(arr).max((-2, -1))


def check_basis(basis, name: str = "basis", max_condition: float = MAX_CONDITION) -> np.ndarray:
    """Validate one basis ``[n, n]`` or a non-empty batch ``[..., n, n]`` and return it as a NumPy array.

    Integer bases may be ``int64`` or ``object`` arrays of Python integers of any size:
    they are rejected only when exactly singular (determinant 0). Float bases are judged
    on their condition number, which does not depend on their scale.

    Raises:
        TypeError: not numeric.
        ValueError: not square, fewer than 2 dimensions, an empty batch, non-finite
            entries, singular integers, or floats with condition number above ``max_condition``.
    """
    arr = _as_numpy(basis, name)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be a square matrix [n, n] or a batch [..., n, n] "
                         f"with basis vectors as columns, got shape {tuple(arr.shape)}")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one basis vector, got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(arr.shape)}): there is no basis to reduce")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError(f"{name} has non-finite entries (NaN or inf)")
    bad, cond = _singular(arr, max_condition)
    if np.any(bad):
        where = tuple(np.argwhere(np.atleast_1d(bad))[0].tolist())
        at = f" at batch index {where}" if arr.ndim > 2 else ""
        value = np.atleast_1d(cond)[where]
        raise ValueError(f"{name} is singular (determinant exactly 0{at})" if np.isinf(value) else
                         f"{name} is nearly singular (condition number {value:.3g} > {max_condition:.0e}{at})")
    return arr


def log_orthogonality_defect_from_gram(gram):
    r"""Log orthogonality defect :math:`\tfrac12(\sum_i\log G_{ii} - \log\det G)` of Gram matrices.

    Works on NumPy arrays and (differentiably) on torch tensors of shape ``[..., n, n]``.
    """
    if isinstance(gram, torch.Tensor):
        diag = torch.diagonal(gram, dim1=-2, dim2=-1)
        return 0.5 * (torch.log(diag).sum(-1) - torch.linalg.slogdet(gram)[1])
    gram = np.asarray(gram, dtype=np.float64)
    diag = np.diagonal(gram, axis1=-2, axis2=-1)
    return 0.5 * (np.log(diag).sum(-1) - np.linalg.slogdet(gram)[1])


def log_norm_product(basis) -> np.ndarray:
    r""":math:`\sum_i \log\lVert b_i\rVert` per basis of ``[..., n, n]`` (NumPy, float64).

    From exact integer norms for integer bases, from :func:`scaled_float` otherwise (no overflow).
    """
    arr = _as_numpy(basis, "basis")
    if arr.dtype == object:
        cols = np.swapaxes(arr, -1, -2).reshape(-1, arr.shape[-1])
        logs = [0.5 * math.log(sum(int(v) * int(v) for v in col)) for col in cols]
        return np.array(logs, dtype=np.float64).reshape(arr.shape[:-1]).sum(-1)
    scaled, exps = scaled_float(arr)
    return np.log(np.linalg.norm(scaled, axis=-2)).sum(-1) + arr.shape[-1] * exps * math.log(2)


def _log_abs_det_exact(arr: np.ndarray) -> np.ndarray:
    dets = np.asarray(integer_determinant(arr), dtype=object)
    return np.vectorize(lambda d: math.log(abs(int(d))), otypes=[np.float64])(dets)


def log_orthogonality_defect(basis):
    r"""Log orthogonality defect :math:`\sum_i \log\lVert b_i\rVert - \log\lvert\det B\rvert`.

    Each column is divided by its largest entry first (the defect is invariant
    to scaling columns), so norms and determinant never overflow. Integer bases
    (NumPy ``int64`` or ``object``) use exact norms and an exact determinant.

    Args:
        basis: ``[..., n, n]`` with basis vectors as columns; a torch tensor
            (differentiable, its dtype kept) or anything NumPy converts (float64).

    Returns:
        ``[...]``: 0 for an orthogonal basis, positive otherwise (up to rounding).
    """
    if isinstance(basis, torch.Tensor):
        if basis.ndim < 2 or basis.shape[-1] != basis.shape[-2]:
            raise ValueError(f"basis must be [..., n, n], got shape {tuple(basis.shape)}")
        basis = basis if basis.is_floating_point() else basis.double()
        basis = basis / basis.detach().abs().amax(-2, keepdim=True)
        return torch.linalg.vector_norm(basis, dim=-2).log().sum(-1) - torch.linalg.slogdet(basis)[1]
    arr = _as_numpy(basis, "basis")
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"basis must be [..., n, n], got shape {tuple(arr.shape)}")
    if is_integer_array(arr):
        return log_norm_product(arr.astype(object)) - _log_abs_det_exact(arr)
    arr = arr.astype(np.float64)
    arr = arr / np.abs(arr).max(-2, keepdims=True)
    return np.log(np.linalg.norm(arr, axis=-2)).sum(-1) - np.linalg.slogdet(arr)[1]


def orthogonality_defect(basis):
    r""":math:`\delta(B) = \prod_i\lVert b_i\rVert / \lvert\det B\rvert` (may overflow; prefer the log)."""
    out = log_orthogonality_defect(basis)
    return out.exp() if isinstance(out, torch.Tensor) else np.exp(out)
