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
"""
from __future__ import annotations

import numpy as np
import torch

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


def check_basis(basis, name: str = "basis", max_condition: float = MAX_CONDITION) -> np.ndarray:
    """Validate one basis ``[n, n]`` or a batch ``[..., n, n]`` and return it as a NumPy array.

    Integer bases may be ``int64`` or ``object`` arrays of Python integers (any size;
    the conditioning test and the float parts of the algorithms use float64, so entries
    must stay below ~1e150).

    Raises:
        TypeError: not numeric.
        ValueError: not square, fewer than 2 dimensions, non-finite entries,
            or (nearly) singular (condition number above ``max_condition``).
    """
    arr = _as_numpy(basis, name)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be a square matrix [n, n] or a batch [..., n, n] "
                         f"with basis vectors as columns, got shape {tuple(arr.shape)}")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one basis vector, got shape {tuple(arr.shape)}")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError(f"{name} has non-finite entries (NaN or inf)")
    if arr.size:
        cond = np.linalg.cond(arr.astype(np.float64))
        bad = ~(cond <= max_condition)
        if np.any(bad):
            where = np.argwhere(np.atleast_1d(bad))[0].tolist()
            raise ValueError(f"{name} is singular or nearly singular (condition number "
                             f"{np.atleast_1d(cond)[tuple(where)]:.3g} > {max_condition:.0e}"
                             + (f" at batch index {tuple(where)}" if arr.ndim > 2 else "") + ")")
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


def log_orthogonality_defect(basis):
    r"""Log orthogonality defect :math:`\sum_i \log\lVert b_i\rVert - \log\lvert\det B\rvert`.

    Each column is divided by its largest entry first (the defect is invariant
    to scaling columns), so norms and determinant never overflow.

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
    arr = _as_numpy(basis, "basis").astype(np.float64)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"basis must be [..., n, n], got shape {tuple(arr.shape)}")
    arr = arr / np.abs(arr).max(-2, keepdims=True)
    return np.log(np.linalg.norm(arr, axis=-2)).sum(-1) - np.linalg.slogdet(arr)[1]


def orthogonality_defect(basis):
    r""":math:`\delta(B) = \prod_i\lVert b_i\rVert / \lvert\det B\rvert` (may overflow; prefer the log)."""
    out = log_orthogonality_defect(basis)
    return out.exp() if isinstance(out, torch.Tensor) else np.exp(out)
