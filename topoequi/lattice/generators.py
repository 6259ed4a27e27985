r"""Random lattice bases and random unimodular matrices (columns are basis vectors).

Gaussian bases of dimension :math:`\ge 30` are already nearly LLL-reduced, so
benchmarks scramble them: :math:`B \leftarrow B U` with a random unimodular
:math:`U = \prod_t L_t R_t`, a product of ``depth`` pairs of unit lower /
unit upper triangular integer matrices whose off-diagonal entries are nonzero
with probability ``density`` (default :math:`\min(1, 4/n)`, which keeps the
condition number of scrambled Gaussian bases below ~1e7 up to :math:`n = 32`)
and then uniform in :math:`\{-c,\dots,c\}` (each factor has determinant
exactly 1), followed by a random signed permutation.
"""
from __future__ import annotations

import numpy as np

from topoequi.lattice.unimodular import as_integer_matrix, integer_matmul


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_sizes(num: int, dim: int) -> None:
    if not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"num must be a non-negative integer, got {num!r}")
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")


def gaussian_bases(num: int, dim: int, seed=None) -> np.ndarray:
    """``num`` bases ``[num, dim, dim]`` (float64) with i.i.d. standard normal entries."""
    _check_sizes(num, dim)
    return _rng(seed).standard_normal((num, dim, dim))


def uniform_integer_bases(num: int, dim: int, low: int = -50, high: int = 50, seed=None) -> np.ndarray:
    """``num`` nonsingular integer bases ``[num, dim, dim]`` (int64), entries uniform in ``[low, high]``.

    Singular draws (exact integer determinant 0) are redrawn.
    """
    from topoequi.lattice.unimodular import integer_determinant

    _check_sizes(num, dim)
    if not low < high:
        raise ValueError(f"uniform_integer_bases needs low < high, got low={low}, high={high}")
    if max(abs(low), abs(high)) >= 2**31:
        raise ValueError("uniform_integer_bases: |low|, |high| must be below 2**31")
    rng = _rng(seed)
    out = rng.integers(low, high, size=(num, dim, dim), endpoint=True)
    for b in range(num):
        for _ in range(100):
            if integer_determinant(out[b]) != 0:
                break
            out[b] = rng.integers(low, high, size=(dim, dim), endpoint=True)
        else:
            raise ValueError(f"uniform_integer_bases: could not draw a nonsingular basis in [{low}, {high}]")
    return out


def random_unimodular(num: int, dim: int, depth: int = 1, max_coeff: int = 1,
                      density: float | None = None, seed=None) -> np.ndarray:
    """``num`` random unimodular matrices ``[num, dim, dim]`` (exact integers).

    Product of ``depth`` pairs (unit lower triangular) x (unit upper triangular)
    with off-diagonal entries nonzero with probability ``density`` (default
    ``min(1, 4 / dim)``) and uniform in ``[-max_coeff, max_coeff]``, then a
    random signed permutation. The result is ``int64`` while it fits, Python
    integers (object array) beyond.
    """
    _check_sizes(num, dim)
    if depth < 0 or max_coeff < 0:
        raise ValueError(f"random_unimodular needs depth >= 0 and max_coeff >= 0, got {depth}, {max_coeff}")
    density = min(1.0, 4.0 / dim) if density is None else density
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"random_unimodular needs density in [0, 1], got {density}")
    rng = _rng(seed)
    eye = np.broadcast_to(np.eye(dim, dtype=np.int64), (num, dim, dim))
    u = eye.copy()
    for _ in range(depth):
        for tri in (np.tril, np.triu):
            draw = rng.integers(-max_coeff, max_coeff, size=(num, dim, dim), endpoint=True)
            off = tri(draw * (rng.random((num, dim, dim)) < density), -1 if tri is np.tril else 1)
            u = integer_matmul(u, eye + off)
    perm = np.argsort(rng.random((num, dim)), axis=-1)
    signs = rng.choice(np.array([-1, 1]), size=(num, dim))
    signed_perm = np.zeros((num, dim, dim), dtype=np.int64)
    np.put_along_axis(signed_perm, perm[:, :, None], signs[:, :, None], axis=2)
    return integer_matmul(u, signed_perm)


def scrambled_bases(bases, depth: int = 1, max_coeff: int = 1, density: float | None = None,
                    seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Scramble ``bases`` ``[num, n, n]`` by random unimodular matrices.

    Returns ``(bases @ U, U)``: exact for integer bases, float64 for float bases.
    """
    from topoequi.lattice.unimodular import apply_unimodular

    b = np.asarray(bases)
    if b.ndim != 3 or b.shape[-1] != b.shape[-2]:
        raise ValueError(f"bases must be [num, n, n], got shape {b.shape}")
    u = random_unimodular(b.shape[0], b.shape[-1], depth, max_coeff, density, seed)
    return apply_unimodular(b, u), as_integer_matrix(u)
