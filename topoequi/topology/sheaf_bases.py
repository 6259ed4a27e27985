"""The combinatorics of :func:`topoequi.topology.local_homology_sheaf`, step by step (NumPy):
the complex as incidence arrays, the components of every vertex link, the stalk dimensions, and the
harmonic bases of :math:`H_1(v)`, :math:`H_2(e)` and :math:`H_2(v)` with their restriction maps. The
conventions (cone orientation, birth order, truncation) are those of :mod:`topoequi.topology.sheaf`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor


def _helmert_values(pos: np.ndarray, k: np.ndarray, n_k: np.ndarray, s_prev: np.ndarray,
                    s_k: np.ndarray) -> np.ndarray:
    """Value of the k-th Gram-Schmidt class vector on an item in component ``pos`` (cone orientation)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.sqrt(n_k / (s_prev * s_k))
        at = -np.sqrt(s_prev / (n_k * s_k))
    return np.where(pos < k, before, np.where(pos == k, at, 0.0))


@dataclass
class Incidences:
    """The complex as index arrays. Half-edge ``h = e`` is the end ``edges[e, 0]`` of edge ``e``,
    ``h = E + e`` the end ``edges[e, 1]``; its cone sign is +1 / -1. ``edge_rank`` is the filtration order of
    the edges; with triangles, ``link_x`` / ``link_y`` are the half-edges joined by the link edge of each
    triangle at each of its vertices (oriented x -> y, boundary c_y - c_x)."""

    num_nodes: int
    edges: np.ndarray
    triangles: np.ndarray
    half_vertex: np.ndarray
    half_edge: np.ndarray
    half_sign: np.ndarray
    degree: np.ndarray
    edge_rank: np.ndarray
    triangles_at_edge: np.ndarray
    triangles_at_vertex: np.ndarray
    triangle_edges: np.ndarray | None = None
    link_x: np.ndarray | None = None
    link_y: np.ndarray | None = None
    triangle_birth: np.ndarray | None = None
    triangle_rank: np.ndarray | None = None

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    @property
    def num_triangles(self) -> int:
        return len(self.triangles)


TRIANGLE_FACE_SIGN = np.array([1.0, -1.0, 1.0])
"""Sign of the faces (pq, pr, qr) in the boundary of a sorted triangle pqr."""


def checked_input(edges, triangles, num_nodes: int, edge_weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ed = _as_numpy(edges, "edges", 2)
    tr = _as_numpy(triangles, "triangles", 3)
    n, num_e = int(num_nodes), len(ed)
    if num_e and (ed.min() < 0 or ed.max() >= n or (ed[:, 0] >= ed[:, 1]).any()):
        raise ValueError("edges must hold sorted vertex pairs u < v with ids in [0, num_nodes)")
    if num_e > 1 and (np.diff(ed[:, 0] * n + ed[:, 1]) <= 0).any():
        raise ValueError("edges must be unique and lexicographically sorted (use clique_complex)")
    w = np.zeros(num_e) if edge_weight is None else (
        edge_weight.detach().cpu().double().numpy() if isinstance(edge_weight, Tensor)
        else np.asarray(edge_weight, dtype=float))
    if w.shape != (num_e,):
        raise ValueError(f"edge_weight must have shape [{num_e}], got {list(w.shape)}")
    if not np.isfinite(w).all():
        raise ValueError("edge_weight holds NaN or infinite values")
    return ed, tr, w


def incidences(ed: np.ndarray, tr: np.ndarray, n: int, w: np.ndarray) -> Incidences:
    num_e, num_t = len(ed), len(tr)
    half_vertex = np.concatenate([ed[:, 0], ed[:, 1]]) if num_e else np.zeros(0, dtype=np.int64)
    edge_rank = np.empty(num_e, dtype=np.int64)
    edge_rank[np.lexsort((np.arange(num_e), w))] = np.arange(num_e)
    inc = Incidences(n, ed, tr, half_vertex, np.concatenate([np.arange(num_e), np.arange(num_e)]),
                      np.concatenate([np.ones(num_e), -np.ones(num_e)]), np.bincount(half_vertex, minlength=n),
                      edge_rank, np.zeros(num_e, dtype=np.int64), np.zeros(n, dtype=np.int64))
    if num_t:
        _add_triangles(inc)
    return inc


def _add_triangles(inc: Incidences) -> None:
    ed, tr, n, num_e, num_t = inc.edges, inc.triangles, inc.num_nodes, inc.num_edges, inc.num_triangles
    keys = ed[:, 0] * n + ed[:, 1]

    def edge_id(a, b):
        idx = np.searchsorted(keys, a * n + b)
        if (idx >= num_e).any() or (keys[np.minimum(idx, num_e - 1)] != a * n + b).any():
            raise ValueError("triangles must have all their edges in edges")
        return idx

    p, q, r = tr[:, 0], tr[:, 1], tr[:, 2]
    if ((p >= q) | (q >= r)).any():
        raise ValueError("triangles must hold sorted vertex triples a < b < c")
    e_pq, e_pr, e_qr = edge_id(p, q), edge_id(p, r), edge_id(q, r)
    tri_edges = np.stack([e_pq, e_pr, e_qr], 1)
    inc.triangle_edges = tri_edges
    inc.link_x = np.stack([e_pr, num_e + e_pq, num_e + e_qr], 1)  # at p, q, r
    inc.link_y = np.stack([e_pq, e_qr, num_e + e_pr], 1)
    inc.triangle_birth = tri_edges[np.arange(num_t), np.argmax(inc.edge_rank[tri_edges], axis=1)]
    # order: largest edge rank, then the middle one (distinct for triangles on a common edge)
    ranks = np.sort(inc.edge_rank[tri_edges], axis=1)
    inc.triangle_rank = np.empty(num_t, dtype=np.int64)
    inc.triangle_rank[np.lexsort((np.arange(num_t), ranks[:, 1], ranks[:, 2]))] = np.arange(num_t)
    inc.triangles_at_edge = np.bincount(tri_edges.ravel(), minlength=num_e)
    inc.triangles_at_vertex = np.bincount(tr.ravel(), minlength=n)


@dataclass
class LinkComponents:
    """Connected components of the links (half-edges joined by link edges), ordered per vertex by their
    oldest edge: ``component[h]``, ``position`` of each component at its vertex, and per vertex the
    ``start`` of its run in the ordered list, with the sizes, cumulative sizes and birth edges in that order."""

    component: np.ndarray
    count: int
    position: np.ndarray
    per_vertex: np.ndarray
    start: np.ndarray
    sorted_size: np.ndarray
    sorted_cumsum: np.ndarray
    sorted_birth_edge: np.ndarray


def link_components(inc: Incidences) -> LinkComponents:
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    num_e, n = inc.num_edges, inc.num_nodes
    if inc.num_triangles:
        lx, ly = inc.link_x.ravel(), inc.link_y.ravel()
        adj = sp.coo_matrix((np.ones(len(lx)), (lx, ly)), shape=(2 * num_e, 2 * num_e))
        _, comp = connected_components(adj, directed=False)
    else:
        comp = np.arange(2 * num_e)
    num_c = int(comp.max()) + 1 if num_e else 0
    birth = np.full(num_c, np.iinfo(np.int64).max)
    np.minimum.at(birth, comp, inc.edge_rank[inc.half_edge])
    size = np.bincount(comp, minlength=num_c)
    vertex = np.zeros(num_c, dtype=np.int64)
    vertex[comp] = inc.half_vertex
    order = np.lexsort((birth, vertex))
    position = np.empty(num_c, dtype=np.int64)
    per_vertex = np.bincount(vertex, minlength=n)
    start = np.concatenate([[0], np.cumsum(per_vertex)[:-1]])
    position[order] = np.arange(num_c) - start[vertex[order]]
    birth_edge = np.argsort(inc.edge_rank)[birth[order]] if num_c else np.zeros(0, dtype=np.int64)
    return LinkComponents(comp, num_c, position, per_vertex, start, size[order], np.cumsum(size[order]),
                           birth_edge)


@dataclass
class Stalks:
    """Stalk dimensions (exact) and the arrays being filled at the stored width ``d``."""

    vertex_dims: np.ndarray
    edge_dims: np.ndarray
    d: int
    restriction: np.ndarray
    vertex_birth: np.ndarray
    edge_birth: np.ndarray

    @property
    def h0(self) -> np.ndarray:
        return self.vertex_dims[:, 0]

    @property
    def h1(self) -> np.ndarray:
        return self.vertex_dims[:, 1]

    @property
    def h2(self) -> np.ndarray:
        return self.vertex_dims[:, 2]


def stalks(inc: Incidences, links: LinkComponents, stalk_width: int | None) -> Stalks:
    deg, t_edge = inc.degree, inc.triangles_at_edge
    h0 = (deg == 0).astype(np.int64)
    h1 = np.where(deg > 0, links.per_vertex - 1, 0)
    h2 = inc.triangles_at_vertex - deg + links.per_vertex
    vertex_dims = np.stack([h0, h1, h2], 1)
    edge_dims = np.stack([np.zeros(inc.num_edges, dtype=np.int64), (t_edge == 0).astype(np.int64),
                          np.maximum(t_edge - 1, 0)], 1)
    full = max(int(vertex_dims.sum(1).max(initial=0)), int(edge_dims.sum(1).max(initial=0)), 1)
    d = full if stalk_width is None else int(stalk_width)
    if d < 1:
        raise ValueError(f"stalk_width must be a positive int, got {stalk_width!r}")
    return Stalks(vertex_dims, edge_dims, d, np.zeros((inc.num_edges, 2, d, d)),
                   np.full((inc.num_nodes, d), -1, dtype=np.int64), np.full((inc.num_edges, d), -1, dtype=np.int64))


def fill_vertex_h1(inc: Incidences, links: LinkComponents, st: Stalks) -> None:
    """H_1(v) columns k = 1 .. c_v - 1 (stalk coordinate k - 1) and their restriction to the edges without
    triangles (H_1(e) = R e, row 0)."""
    if not links.count:
        return
    d, num_e, start = st.d, inc.num_edges, links.start
    cols = np.arange(1, d + 1)                                     # k for coordinates 0..d-1
    valid = cols[None, :] <= st.h1[:, None]                        # [N, d]
    flat = np.minimum(start[:, None] + cols[None, :], max(links.count - 1, 0))
    n_k = np.where(valid, links.sorted_size[flat], 1.0)
    s_k = np.where(valid, links.sorted_cumsum[flat] - np.where(start > 0, links.sorted_cumsum[start - 1], 0)[:, None],
                   1.0)
    s_prev = s_k - n_k
    st.vertex_birth[valid] = links.sorted_birth_edge[flat][valid]
    free = np.flatnonzero(inc.triangles_at_edge[inc.half_edge] == 0)
    hv = inc.half_vertex[free]
    pos = links.position[links.component[free]]
    vals = _helmert_values(pos[:, None], cols[None, :], n_k[hv], s_prev[hv], s_k[hv])
    vals = np.where(valid[hv], vals, 0.0) * inc.half_sign[free][:, None]
    side = (free >= num_e).astype(np.int64)
    st.restriction[inc.half_edge[free], side, 0, :] = vals
    fe = inc.half_edge[free[side == 0]]
    st.edge_birth[fe, 0] = fe


class EdgeH2Bases:
    """H_2(e) of every edge: its triangles in birth order, their births as the edge's classes, and the
    ``[t_e, min(t_e - 1, d)]`` standard-orientation basis of each edge (computed once per edge)."""

    def __init__(self, inc: Incidences, st: Stalks) -> None:
        num_t, d = inc.num_triangles, st.d
        tri = np.repeat(np.arange(num_t), 3)
        edge = inc.triangle_edges.ravel()
        sign = np.tile(TRIANGLE_FACE_SIGN, num_t)
        o = np.lexsort((inc.triangle_rank[tri], edge))
        self.triangle, self.sign = tri[o], sign[o]
        self.count, self.d = inc.triangles_at_edge, d
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        cols = np.arange(1, d + 1)
        birth_cols = np.minimum(self.start[:, None] + cols[None, :], len(self.triangle) - 1)
        valid = cols[None, :] <= st.edge_dims[:, 2:3]
        st.edge_birth[valid] = inc.triangle_birth[self.triangle[birth_cols]][valid]
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, e: int) -> tuple[np.ndarray, np.ndarray]:
        if e not in self._cache:
            sl = slice(self.start[e], self.start[e] + self.count[e])
            k = np.arange(1, min(self.count[e] - 1, self.d) + 1)
            ip = np.arange(self.count[e])[:, None].astype(float)
            vals = _helmert_values(ip, k[None, :], 1.0, k[None, :].astype(float), k[None, :] + 1.0)
            self._cache[e] = (self.triangle[sl], vals * self.sign[sl][:, None])
        return self._cache[e]


def fill_vertex_h2(inc: Incidences, st: Stalks, edge_basis: EdgeH2Bases) -> None:
    """H_2(v): fundamental cycles of each link, for the vertices whose H_2 fits in ``d``, and their
    restriction to the edges with H_2(e) != 0 (two or more triangles)."""
    n, num_e, d = inc.num_nodes, inc.num_edges, st.d
    need = np.flatnonzero((st.h2 > 0) & (st.h0 + st.h1 < d))
    if not len(need):
        return
    tri_of = np.repeat(np.arange(inc.num_triangles), 3)
    x_of, y_of = inc.link_x.ravel(), inc.link_y.ravel()
    by_vertex = np.argsort(inc.triangles.ravel(), kind="stable")
    v_start = np.concatenate([[0], np.cumsum(inc.triangles_at_vertex)[:-1]])
    busy = np.flatnonzero(inc.triangles_at_edge[inc.half_edge] >= 2)  # half-edges with H_2(e) != 0, by vertex
    busy = busy[np.argsort(inc.half_vertex[busy], kind="stable")]
    busy_lo = np.searchsorted(inc.half_vertex[busy], np.arange(n))
    busy_hi = np.searchsorted(inc.half_vertex[busy], np.arange(n), side="right")
    for v in need.tolist():
        sel = by_vertex[v_start[v]:v_start[v] + inc.triangles_at_vertex[v]]
        in_order = np.argsort(inc.triangle_rank[tri_of[sel]], kind="stable")
        tris, xs, ys = tri_of[sel][in_order], x_of[sel][in_order], y_of[sel][in_order]
        offset = st.h0[v] + st.h1[v]
        cycles, births = _link_cycles(xs, ys, inc.edge_rank[inc.half_edge[xs]], inc.edge_rank[inc.half_edge[ys]],
                                      min(st.h2[v], d - offset))
        if not cycles:
            continue
        z = np.stack(cycles, 1)
        basis, _ = np.linalg.qr(z)
        basis = basis * np.sign(np.diag(basis.T @ z))[None, :]      # keep the sign of each representative
        coords = slice(offset, offset + basis.shape[1])
        st.vertex_birth[v, coords] = inc.triangle_birth[tris[births]]
        row_of = {t: i for i, t in enumerate(tris.tolist())}
        for h in busy[busy_lo[v]:busy_hi[v]].tolist():
            e, side = h % num_e, h // num_e
            edge_tris, edge_vectors = edge_basis(e)
            block = edge_vectors.T @ basis[np.array([row_of[t] for t in edge_tris.tolist()])]
            m = min(block.shape[0], d)
            st.restriction[e, side, :m, coords] = block[:m]


def _link_cycles(xs: np.ndarray, ys: np.ndarray, x_age: np.ndarray, y_age: np.ndarray,
                 limit: int) -> tuple[list[np.ndarray], list[int]]:
    """Fundamental cycles of a link graph, edges given in filtration order.

    Link edge ``j`` joins half-edges ``xs[j] -> ys[j]`` with relative boundary
    ``c_y - c_x`` (cone orientation). An edge that joins two vertices already
    connected in the Kruskal forest closes the cycle ``z_j = 1`` plus ``-eps``
    on the forest path from ``x`` to ``y`` (``eps = +1`` when a path edge is
    walked ``x -> y``). Its sign is then fixed intrinsically (independent of
    vertex labels): the closing edge runs from its older end to its younger
    one (``x_age``, ``y_age``: filtration ranks of the ends). Returns at most
    ``limit`` cycles (vectors over the link edges) and the indices of the
    edges that closed them.
    """
    parent: dict[int, int] = {}

    def find(a: int) -> int:
        root = a
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(a, a) != root:
            parent[a], a = root, parent[a]
        return root

    forest: dict[int, list[tuple[int, int, int]]] = {}
    closing = []
    for j, (x, y) in enumerate(zip(xs.tolist(), ys.tolist())):
        rx, ry = find(x), find(y)
        if rx == ry:
            closing.append(j)
            if len(closing) >= limit:
                break
            continue
        parent[rx] = ry
        forest.setdefault(x, []).append((y, j, 1))
        forest.setdefault(y, []).append((x, j, -1))
    cycles = []
    for j in closing:
        x, y = int(xs[j]), int(ys[j])
        # breadth-first path x -> y in the forest
        prev = {x: None}
        frontier = [x]
        while y not in prev:
            nxt = []
            for a in frontier:
                for b, edge, eps in forest.get(a, ()):
                    if b not in prev:
                        prev[b] = (a, edge, eps)
                        nxt.append(b)
            frontier = nxt
        z = np.zeros(len(xs))
        z[j] = 1.0
        node = y
        while prev[node] is not None:
            a, edge, eps = prev[node]
            z[edge] = -eps
            node = a
        cycles.append(z if x_age[j] < y_age[j] else -z)
    return cycles, closing


def _as_numpy(t: Tensor | np.ndarray, name: str, width: int) -> np.ndarray:
    a = t.detach().cpu().numpy() if isinstance(t, Tensor) else np.asarray(t)
    if a.size == 0:
        return np.zeros((0, width), dtype=np.int64)
    if a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f"{name} must have shape [*, {width}], got {list(a.shape)}")
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integer vertex ids, got dtype {a.dtype}")
    return a.astype(np.int64)
