r"""Relative chain complexes of open stars and local homology over :math:`\mathbb{R}`.

For a simplex :math:`s` of a simplicial complex :math:`X`, the open star
:math:`\operatorname{St} s = \{t \in X : s \subseteq t\}` is the basis of the
relative chain complex :math:`C_\bullet(X, X - \operatorname{St} s)`: the
boundary of :math:`t = [v_0, \dots, v_k]` is
:math:`\sum_i (-1)^i [v_0, \dots, \hat v_i, \dots, v_k]` with every face that
does not contain :math:`s` dropped. Its homology is the local homology
:math:`H_k(X, X - s)`; at a vertex it is :math:`\tilde H_{k-1}(\operatorname{Lk} v)`.

This module is the reference implementation for complexes of any dimension
(dense matrices, one simplex at a time): Betti numbers are exact integers
(fraction-free elimination over :math:`\mathbb{Z} \subset \mathbb{Q}`), and
classes are represented by harmonic cycles (the kernel of the relative Hodge
Laplacian :math:`\partial_k^\top \partial_k + \partial_{k+1} \partial_{k+1}^\top`).
The vectorised vertex/edge sheaf of :mod:`topoequi.topology.sheaf` is tested
against it.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

Simplex = tuple[int, ...]


def _normalise(simplices) -> list[list[Simplex]]:
    """Group simplices by dimension, add all faces, sort. ``simplices``: a
    :class:`~topoequi.topology.SimplicialComplex`, or simplices (vertex tuples),
    flat or grouped by dimension."""
    if hasattr(simplices, "edges") and hasattr(simplices, "triangles"):  # a SimplicialComplex
        simplices = ([(v,) for v in range(int(simplices.num_nodes))] + simplices.edges.tolist()
                     + simplices.triangles.tolist())
    elif not isinstance(simplices, Sequence) or isinstance(simplices, (str, bytes)):
        raise TypeError(f"simplices must be a SimplicialComplex or a sequence of vertex tuples, "
                        f"got {type(simplices).__name__}")
    flat = []
    for item in simplices:
        if len(item) and not isinstance(item[0], (int, np.integer)):
            flat.extend(item)
        else:
            flat.append(item)
    by_dim: dict[int, set] = {}
    for s in flat:
        s = tuple(sorted(int(v) for v in s))
        if len(set(s)) != len(s) or not s:
            raise ValueError(f"simplices must be non-empty tuples of distinct vertices, got {s!r}")
        k = len(s)
        for j in range(1, k + 1):
            by_dim.setdefault(j - 1, set()).update(combinations(s, j))
    top = max(by_dim) if by_dim else -1
    return [sorted(by_dim.get(k, ())) for k in range(top + 1)]


def open_star(simplices, s: Simplex) -> list[list[Simplex]]:
    """The simplices containing ``s``, grouped by dimension (lower dimensions empty)."""
    cx = _normalise(simplices)
    s = tuple(sorted(s))
    if len(s) - 1 >= len(cx) or s not in set(cx[len(s) - 1]):
        raise ValueError(f"simplex {s} is not in the complex")
    ss = set(s)
    return [[t for t in layer if ss.issubset(t)] for layer in cx]


def relative_boundaries(simplices, s: Simplex) -> tuple[list[list[Simplex]], list[np.ndarray]]:
    r"""The relative chain complex of :math:`(X, X - \operatorname{St} s)`.

    Returns ``(star, boundaries)``: ``star[k]`` lists the k-simplices
    containing ``s`` (the basis of :math:`C_k`), and ``boundaries[k]`` is the
    integer matrix of :math:`\partial_k : C_k \to C_{k-1}` (shape
    ``[len(star[k-1]), len(star[k])]``; ``boundaries[0]`` is ``[0, n_0]``).
    """
    star = open_star(simplices, s)
    index = [{t: i for i, t in enumerate(layer)} for layer in star]
    mats = [np.zeros((0, len(star[0])), dtype=np.int64)]
    for k in range(1, len(star)):
        d = np.zeros((len(star[k - 1]), len(star[k])), dtype=np.int64)
        for j, t in enumerate(star[k]):
            for i in range(len(t)):
                face = t[:i] + t[i + 1:]
                row = index[k - 1].get(face)
                if row is not None:
                    d[row, j] = (-1) ** i
        mats.append(d)
    return star, mats


def exact_rank(mat: np.ndarray) -> int:
    """Rank of an integer matrix over the rationals (Gaussian elimination with ``Fraction``)."""
    from fractions import Fraction

    a = [[Fraction(int(x)) for x in row] for row in np.asarray(mat)]
    rank = 0
    for c in range(len(a[0]) if a else 0):
        pivot = next((r for r in range(rank, len(a)) if a[r][c] != 0), None)
        if pivot is None:
            continue
        a[rank], a[pivot] = a[pivot], a[rank]
        for r in range(rank + 1, len(a)):
            if a[r][c] != 0:
                f = a[r][c] / a[rank][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[rank])]
        rank += 1
    return rank


def local_betti(simplices, s: Simplex) -> list[int]:
    r"""Exact Betti numbers :math:`\dim H_k(X, X - \operatorname{St} s)`, ``k = 0..dim X``."""
    star, mats = relative_boundaries(simplices, s)
    ranks = [exact_rank(m) for m in mats] + [0]
    return [len(star[k]) - ranks[k] - ranks[k + 1] for k in range(len(star))]


def harmonic_basis(simplices, s: Simplex, tol: float = 1e-9) -> tuple[list[list[Simplex]], list[np.ndarray]]:
    r"""Orthonormal harmonic cycles representing :math:`H_k(X, X - \operatorname{St} s)`.

    Returns ``(star, bases)`` with ``bases[k]`` of shape ``[len(star[k]), b_k]``
    spanning :math:`\ker \partial_k \cap \ker \partial_{k+1}^\top`. The basis
    inside each space is the one an SVD returns (not canonical); the
    persistent construction fixes it.
    """
    star, mats = relative_boundaries(simplices, s)
    bases = []
    for k in range(len(star)):
        n = len(star[k])
        blocks = [mats[k].astype(float)]
        if k + 1 < len(mats):
            blocks.append(mats[k + 1].T.astype(float))
        a = np.concatenate(blocks, axis=0) if n else np.zeros((0, 0))
        if n == 0:
            bases.append(np.zeros((0, 0)))
            continue
        if a.shape[0] == 0:
            bases.append(np.eye(n))
            continue
        _, sv, vt = np.linalg.svd(a, full_matrices=True)
        rank = int((sv > tol * max(1.0, sv.max(initial=0.0))).sum())
        bases.append(vt[rank:].T.copy())
    return star, bases


def restriction_map(simplices, face: Simplex, coface: Simplex) -> list[np.ndarray]:
    r"""The maps :math:`F_{s \le t} : H_k(X, X - s) \to H_k(X, X - t)` for ``face`` ``s`` of ``coface`` ``t``.

    Projecting relative chains of :math:`\operatorname{St} s` onto
    :math:`\operatorname{St} t \subseteq \operatorname{St} s` is a chain map;
    in harmonic bases :math:`Q_s, Q_t` the induced map is
    :math:`Q_t^\top P Q_s` (a cycle's harmonic part is its class). Returns one
    matrix per degree, in the bases of :func:`harmonic_basis`.
    """
    face, coface = tuple(sorted(face)), tuple(sorted(coface))
    if not set(face).issubset(coface):
        raise ValueError(f"{face} is not a face of {coface}")
    star_s, q_s = harmonic_basis(simplices, face)
    star_t, q_t = harmonic_basis(simplices, coface)
    maps = []
    for k in range(len(star_s)):
        pos = {t: i for i, t in enumerate(star_s[k])}
        proj = np.zeros((len(star_t[k]), len(star_s[k])))
        for i, t in enumerate(star_t[k]):
            proj[i, pos[t]] = 1.0
        maps.append(q_t[k].T @ proj @ q_s[k])
    return maps
