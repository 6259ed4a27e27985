r"""The local homology sheaf on the vertices and edges of a complex of dimension <= 2.

Stalks. For a cell :math:`s` (vertex or edge) the stalk is the total local
homology :math:`F(s) = \bigoplus_k H_k(X, X - \operatorname{St} s)`, graded,
laid out as ``[H_0 | H_1 | H_2]`` (vertices) and ``[H_1 | H_2]`` (edges; an
edge never has :math:`H_0`). In a complex of dimension <= 2 they have closed
forms (:math:`\operatorname{Lk} v` is a graph on the edges at :math:`v`, with
one link edge per triangle at :math:`v`):

* vertex :math:`v` of degree :math:`d_v` with :math:`t_v` triangles and
  :math:`c_v` link components: :math:`H_0 = 1` iff :math:`d_v = 0`;
  :math:`H_1 = c_v - 1` (:math:`= d_v - 1` with no triangles);
  :math:`H_2 = t_v - d_v + c_v` (cycles of the link);
* edge :math:`e` in :math:`t_e` triangles: :math:`H_1 = 1` iff :math:`t_e = 0`;
  :math:`H_2 = t_e - 1` iff :math:`t_e \ge 1` (an edge in one triangle, a
  boundary edge, has a zero stalk).

Restriction maps. For :math:`v < e`, :math:`F_{v \le e} = Q_e^\top P Q_v`:
harmonic bases :math:`Q` (orthonormal relative cycles, standard orientation
of sorted simplices) and the projection :math:`P` of chains on
:math:`\operatorname{St} v` onto :math:`\operatorname{St} e`. Degrees are preserved.

Canonical basis from persistence. Given edge weights :math:`w` (a filtration:
a simplex enters at the largest weight of its edges; ties between edges
broken by edge index, between triangles by their second-largest edge), each essential class of the filtered relative complex is born at a
definite simplex. Classes are ordered by birth and the stalk basis is the
Gram-Schmidt orthonormalisation, in birth order, of their harmonic
representatives:

* :math:`H_1(v)`: link components :math:`C_0, C_1, \dots` ordered by their
  oldest edge; the class born with :math:`C_k` (:math:`k \ge 1`, :math:`C_0`
  is the one that kills :math:`H_0(v)`) is
  :math:`1_{C_k}/n_k - 1_{C_0}/n_0`; Gram-Schmidt gives, with
  :math:`S_k = n_0 + \dots + n_k`, the vector equal to
  :math:`\sqrt{n_k / (S_{k-1} S_k)}` on :math:`C_0 \cup \dots \cup C_{k-1}`
  and :math:`-\sqrt{S_{k-1} / (n_k S_k)}` on :math:`C_k` (cone orientation);
* :math:`H_2(e)`: the same with the triangles at :math:`e` as items (:math:`n = 1`);
* :math:`H_2(v)`: the fundamental cycle of each link edge that closes a cycle
  in the Kruskal forest grown in filtration order.

Without weights all weights tie and the order falls back to edge indices, so
the basis (not the stalk, nor the Laplacian's spectrum) depends on vertex
labels. With pairwise distinct weights the basis is canonical: signs are
fixed in the cone orientation (edges at :math:`v` point away from :math:`v`;
a link cycle runs along its closing link edge from the older end to the
younger), so relabelling the vertices leaves every vertex block of the
Laplacian unchanged (edge stalks enter only through
:math:`F^\top F` and their signs cancel).

Truncation. Layers keep a fixed width ``d``: a stalk keeps its first ``d``
basis vectors (the oldest classes, i.e. the longest bars, in the layout
order above) and is zero-padded, with a mask. ``vertex_dims`` / ``edge_dims``
always report the exact, untruncated dimensions.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class LocalHomologySheaf:
    """Stalks and restriction maps of the local homology sheaf, in a flat block layout.

    Attributes:
        vertex_dims (LongTensor ``[N, 3]``): exact :math:`\\dim H_k(X, X - v)`, k = 0, 1, 2.
        edge_dims (LongTensor ``[E, 3]``): exact :math:`\\dim H_k(X, X - e)`.
        restriction (Tensor ``[E, 2, d, d]``): ``[e, 0]`` is :math:`F_{u \\le e}`,
            ``[e, 1]`` is :math:`F_{v \\le e}` for ``edges[e] = (u, v)``, ``u < v``;
            rows index the edge stalk, columns the vertex stalk, zero-padded.
        vertex_mask, edge_mask (BoolTensor ``[N, d]``, ``[E, d]``): stalk coordinates in use.
        vertex_birth, edge_birth (LongTensor ``[N, d]``, ``[E, d]``): for every basis
            vector the edge whose weight is its birth time (``-1``: born at 0, or padding).
    """

    vertex_dims: Tensor
    edge_dims: Tensor
    restriction: Tensor
    vertex_mask: Tensor
    edge_mask: Tensor
    vertex_birth: Tensor
    edge_birth: Tensor

    @property
    def stalk_width(self) -> int:
        return int(self.restriction.size(-1))


def _helmert_values(pos: np.ndarray, k: np.ndarray, n_k: np.ndarray, s_prev: np.ndarray,
                    s_k: np.ndarray) -> np.ndarray:
    """Value of the k-th Gram-Schmidt class vector on an item in component ``pos`` (cone orientation)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.sqrt(n_k / (s_prev * s_k))
        at = -np.sqrt(s_prev / (n_k * s_k))
    return np.where(pos < k, before, np.where(pos == k, at, 0.0))


def local_homology_sheaf(edges: Tensor | np.ndarray, triangles: Tensor | np.ndarray, num_nodes: int,
                         edge_weight: Tensor | np.ndarray | None = None,
                         stalk_width: int | None = None,
                         dtype: torch.dtype | None = None) -> LocalHomologySheaf:
    """Build the local homology sheaf of a complex given by sorted ``edges`` and ``triangles``.

    Args:
        edges (``[E, 2]``), triangles (``[T, 3]``): sorted simplices, as in
            :class:`~topoequi.topology.SimplicialComplex`.
        num_nodes (int): number of vertices.
        edge_weight (``[E]``, optional): filtration values fixing the basis
            order (see module docstring). (default: ``None``, all equal)
        stalk_width (int, optional): ``d``, the stored width of every stalk.
            (default: ``None``, the largest stalk dimension, no truncation)
        dtype: dtype of the restriction maps. (default: ``torch.get_default_dtype()``)
    """
    ed = _as_numpy(edges, "edges", 2)
    tr = _as_numpy(triangles, "triangles", 3)
    n, num_e, num_t = int(num_nodes), len(ed), len(tr)
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

    # --- incidences ------------------------------------------------------------------------
    # half-edge h = e (the end edges[e, 0]) or E + e (the end edges[e, 1]); cone sign +1 / -1.
    h_vertex = np.concatenate([ed[:, 0], ed[:, 1]]) if num_e else np.zeros(0, dtype=np.int64)
    h_edge = np.concatenate([np.arange(num_e), np.arange(num_e)])
    h_sign = np.concatenate([np.ones(num_e), -np.ones(num_e)])
    deg = np.bincount(h_vertex, minlength=n)
    erank = np.empty(num_e, dtype=np.int64)
    erank[np.lexsort((np.arange(num_e), w))] = np.arange(num_e)

    if num_t:
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
        tri_sign = np.array([1.0, -1.0, 1.0])  # standard sign of each face in the boundary
        # link edge at each vertex of the triangle, oriented x -> y with boundary c_y - c_x
        link_x = np.stack([e_pr, num_e + e_pq, num_e + e_qr], 1)  # at p, q, r
        link_y = np.stack([e_pq, e_qr, num_e + e_pr], 1)
        tri_birth = tri_edges[np.arange(num_t), np.argmax(erank[tri_edges], axis=1)]
        # order: largest edge rank, then the middle one (distinct for triangles on a common edge)
        ranks = np.sort(erank[tri_edges], axis=1)
        t_rank = np.empty(num_t, dtype=np.int64)
        t_rank[np.lexsort((np.arange(num_t), ranks[:, 1], ranks[:, 2]))] = np.arange(num_t)
        t_edge = np.bincount(tri_edges.ravel(), minlength=num_e)
        t_vertex = np.bincount(tr.ravel(), minlength=n)
    else:
        t_edge = np.zeros(num_e, dtype=np.int64)
        t_vertex = np.zeros(n, dtype=np.int64)

    # --- link components (H_1 of vertices) ---------------------------------------------------
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    if num_t:
        lx, ly = link_x.ravel(), link_y.ravel()
        adj = sp.coo_matrix((np.ones(len(lx)), (lx, ly)), shape=(2 * num_e, 2 * num_e))
        _, comp = connected_components(adj, directed=False)
    else:
        comp = np.arange(2 * num_e)
    num_c = int(comp.max()) + 1 if num_e else 0
    c_birth = np.full(num_c, np.iinfo(np.int64).max)
    np.minimum.at(c_birth, comp, erank[h_edge])
    c_size = np.bincount(comp, minlength=num_c)
    c_vertex = np.zeros(num_c, dtype=np.int64)
    c_vertex[comp] = h_vertex
    order = np.lexsort((c_birth, c_vertex))
    c_pos = np.empty(num_c, dtype=np.int64)
    comps_per_vertex = np.bincount(c_vertex, minlength=n)
    start = np.concatenate([[0], np.cumsum(comps_per_vertex)[:-1]])
    c_pos[order] = np.arange(num_c) - start[c_vertex[order]]
    c_sorted_size = c_size[order]
    c_sorted_cum = np.cumsum(c_sorted_size)
    c_sorted_birth_edge = np.argsort(erank)[c_birth[order]] if num_c else np.zeros(0, dtype=np.int64)

    h0 = (deg == 0).astype(np.int64)
    h1 = np.where(deg > 0, comps_per_vertex - 1, 0)
    h2 = t_vertex - deg + comps_per_vertex
    vertex_dims = np.stack([h0, h1, h2], 1)
    edge_dims = np.stack([np.zeros(num_e, dtype=np.int64), (t_edge == 0).astype(np.int64),
                          np.maximum(t_edge - 1, 0)], 1)
    full = max(int(vertex_dims.sum(1).max(initial=0)), int(edge_dims.sum(1).max(initial=0)), 1)
    d = full if stalk_width is None else int(stalk_width)
    if d < 1:
        raise ValueError(f"stalk_width must be a positive int, got {stalk_width!r}")

    restriction = np.zeros((num_e, 2, d, d))
    v_birth = np.full((n, d), -1, dtype=np.int64)
    e_birth = np.full((num_e, d), -1, dtype=np.int64)
    v_mask = np.arange(d)[None, :] < vertex_dims.sum(1, keepdims=True)
    e_mask = np.arange(d)[None, :] < edge_dims.sum(1, keepdims=True)

    # --- H_1(v) columns: k = 1 .. c_v - 1, at stalk coordinate k - 1 -----------------------
    cols = np.arange(1, d + 1)                                     # k for coordinates 0..d-1
    valid = cols[None, :] <= h1[:, None]                           # [N, d]
    flat = np.minimum(start[:, None] + cols[None, :], max(num_c - 1, 0))
    if num_c:
        n_k = np.where(valid, c_sorted_size[flat], 1.0)
        s_k = np.where(valid, c_sorted_cum[flat] - np.where(start > 0, c_sorted_cum[start - 1], 0)[:, None], 1.0)
        s_prev = s_k - n_k
        v_birth[valid] = c_sorted_birth_edge[flat][valid]
        # F_{v<=e} for edges without triangles (H_1(e) = R e): row 0, columns k - 1
        free = np.flatnonzero(t_edge[h_edge] == 0)
        hv = h_vertex[free]
        pos = c_pos[comp[free]]
        vals = _helmert_values(pos[:, None], cols[None, :], n_k[hv], s_prev[hv], s_k[hv])
        vals = np.where(valid[hv], vals, 0.0) * h_sign[free][:, None]
        side = (free >= num_e).astype(np.int64)
        restriction[h_edge[free], side, 0, :] = vals
        fe = h_edge[free[side == 0]]
        e_birth[fe, 0] = fe

    if num_t:
        # --- H_2(e): triangles at e in birth order ---------------------------------------------
        inc_t = np.repeat(np.arange(num_t), 3)
        inc_e = tri_edges.ravel()
        inc_s = np.tile(tri_sign, num_t)
        o = np.lexsort((t_rank[inc_t], inc_e))
        inc_t, inc_e, inc_s = inc_t[o], inc_e[o], inc_s[o]
        e_start = np.concatenate([[0], np.cumsum(t_edge)[:-1]])
        e_birth_cols = np.minimum(e_start[:, None] + cols[None, :], len(inc_t) - 1)
        e_valid = (cols[None, :] <= edge_dims[:, 2:3])
        e_birth[e_valid] = tri_birth[inc_t[e_birth_cols]][e_valid]

        @functools.cache
        def edge_basis(e: int) -> tuple[np.ndarray, np.ndarray]:
            """Triangles at e and the [t_e, min(t_e - 1, d)] standard-orientation basis."""
            sl = slice(e_start[e], e_start[e] + t_edge[e])
            k = np.arange(1, min(t_edge[e] - 1, d) + 1)
            ip = np.arange(t_edge[e])[:, None].astype(float)
            vals = _helmert_values(ip, k[None, :], 1.0, k[None, :].astype(float), k[None, :] + 1.0)
            return inc_t[sl], vals * inc_s[sl][:, None]

        # --- H_2(v): fundamental cycles of the link, for vertices whose H_2 fits in d ----------
        need = np.flatnonzero((h2 > 0) & (h0 + h1 < d))
        if len(need):
            vt_inc = np.repeat(np.arange(num_t), 3)
            vt_v = tr.ravel()
            vt_x, vt_y = link_x.ravel(), link_y.ravel()
            o = np.argsort(vt_v, kind="stable")
            v_start = np.concatenate([[0], np.cumsum(t_vertex)[:-1]])
            # half-edges on edges with >= 2 triangles (H_2(e) != 0), grouped by vertex
            busy = np.flatnonzero(t_edge[h_edge] >= 2)
            busy = busy[np.argsort(h_vertex[busy], kind="stable")]
            busy_lo = np.searchsorted(h_vertex[busy], np.arange(n))
            busy_hi = np.searchsorted(h_vertex[busy], np.arange(n), side="right")
            for v in need.tolist():
                sel = o[v_start[v]:v_start[v] + t_vertex[v]]
                tris = vt_inc[sel]
                ordr = np.argsort(t_rank[tris], kind="stable")
                tris, xs, ys = tris[ordr], vt_x[sel][ordr], vt_y[sel][ordr]
                offset = h0[v] + h1[v]
                cycles, births = _link_cycles(xs, ys, erank[h_edge[xs]], erank[h_edge[ys]],
                                               min(h2[v], d - offset))
                if not cycles:
                    continue
                z = np.stack(cycles, 1)
                qv, _ = np.linalg.qr(z)
                qv = qv * np.sign(np.diag(qv.T @ z))[None, :]      # keep the sign of each representative
                cset = slice(offset, offset + qv.shape[1])
                v_birth[v, cset] = tri_birth[tris[births]]
                row_of = {t: i for i, t in enumerate(tris.tolist())}
                for h in busy[busy_lo[v]:busy_hi[v]].tolist():
                    e, side = h % num_e, h // num_e
                    et, qe = edge_basis(e)
                    rows = np.array([row_of[t] for t in et.tolist()])
                    block = qe.T @ qv[rows]
                    m = min(block.shape[0], d)
                    restriction[e, side, :m, cset] = block[:m]
    return LocalHomologySheaf(
        vertex_dims=torch.from_numpy(vertex_dims), edge_dims=torch.from_numpy(edge_dims),
        restriction=torch.from_numpy(restriction).to(dtype or torch.get_default_dtype()),
        vertex_mask=torch.from_numpy(v_mask), edge_mask=torch.from_numpy(e_mask),
        vertex_birth=torch.from_numpy(v_birth), edge_birth=torch.from_numpy(e_birth))


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


def with_constant_sheaf(restriction: Tensor, width: int = 1, signed_width: int = 0) -> Tensor:
    r"""The direct sum :math:`\mathcal{F} \oplus \underline{\mathbb{R}}^m \oplus \mathcal{S}^h` with
    constant and signed line sheaves.

    ``[E, 2, d, d] -> [E, 2, d + m + h, d + m + h]``. The ``m`` constant
    coordinates have identity restriction maps, so each of their blocks of
    the sheaf Laplacian is the graph Laplacian :math:`D - A` and the kernel
    gains ``m`` sections per connected component; every vertex (a leaf,
    whose local homology is zero, included) then takes part in the
    diffusion. The ``h`` signed coordinates (the last ones) have
    :math:`F_{u \le e} = 1`, :math:`F_{v \le e} = -1` for ``e = (u, v)``:
    their blocks are the signless Laplacian :math:`D + A` (the sign of one
    endpoint only matters through the product :math:`-F_u F_v = 1`), whose
    sections are the :math:`\pm 1` two-colourings, one per bipartite
    component and none on an odd cycle. Diffusing along them pulls a vertex
    towards the negative of its neighbours' mean: the high-pass coordinate
    of Neural Sheaf Diffusion.
    """
    if restriction.dim() != 4 or restriction.size(1) != 2 or restriction.size(2) != restriction.size(3):
        raise ValueError(f"restriction must have shape [E, 2, d, d], got {list(restriction.shape)}")
    for name, value in (("width", width), ("signed_width", signed_width)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if width + signed_width < 1:
        raise ValueError(f"width + signed_width must be >= 1, got {width!r} + {signed_width!r}")
    num_e, _, d, _ = restriction.shape
    extra = width + signed_width
    out = restriction.new_zeros(num_e, 2, d + extra, d + extra)
    out[..., :d, :d] = restriction
    sign = torch.ones(2, extra, dtype=restriction.dtype, device=restriction.device)
    sign[1, width:] = -1
    out[..., d:, d:] = torch.diag_embed(sign)
    return out


def soft_presence(birth: Tensor, mask: Tensor, edge_weight: Tensor, scale: Tensor | float,
                  temperature: float) -> Tensor:
    r"""Differentiable weight :math:`\alpha = \sigma((\varepsilon - b) / \tau)` of every basis vector.

    :math:`b` is the birth of the class (the weight of its birth edge;
    ``birth == -1`` means born at 0, :math:`\alpha = 1`), :math:`\varepsilon`
    the scale at which the filtered complex is read, :math:`\tau` the
    temperature. As :math:`\tau \to 0` this is the indicator that the class
    exists at scale :math:`\varepsilon`; padding coordinates get 0.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    padded = torch.cat([edge_weight, edge_weight.new_zeros(1)])     # index -1 reads the 0 appended
    b = padded[birth]
    alpha = torch.sigmoid((scale - b) / temperature)
    alpha = torch.where(birth >= 0, alpha, torch.ones_like(alpha))
    return alpha * mask.to(alpha.dtype)


def persistent_restriction(sheaf: LocalHomologySheaf, edges: Tensor, edge_weight: Tensor,
                           scale: Tensor | float, temperature: float) -> Tensor:
    r"""Restriction maps of the persistent sheaf, differentiable in ``edge_weight`` and ``scale``.

    :math:`F^{\varepsilon}_{v \le e} = \operatorname{diag}(\alpha_e) F_{v \le e} \operatorname{diag}(\alpha_v)`
    with :math:`\alpha` from :func:`soft_presence`: a class contributes in
    proportion to how surely it exists at scale :math:`\varepsilon`. The
    combinatorial part (``sheaf``, its birth order) is piecewise constant in
    the weights; gradients flow through the births.
    """
    a_v = soft_presence(sheaf.vertex_birth, sheaf.vertex_mask, edge_weight, scale, temperature)
    a_e = soft_presence(sheaf.edge_birth, sheaf.edge_mask, edge_weight, scale, temperature)
    r = sheaf.restriction.to(edge_weight.dtype)
    return a_e[:, None, :, None] * r * a_v[edges].unsqueeze(-2)


def persistent_local_homology_restriction(x: Tensor, edges: Tensor, triangles: Tensor, stalk_width: int,
                                          scale: Tensor | float, temperature: float) -> Tensor:
    r"""The persistent local homology sheaf of the complex weighted by distances between node embeddings.

    :math:`w_{uv} = \|x_u - x_v\| / \overline{\|x_u - x_v\|}` (mean-normalised, so
    ``scale`` is in units of the mean edge length); the basis order comes
    from :func:`local_homology_sheaf` on the detached weights, the soft
    presence of every class from :func:`persistent_restriction`, so the
    returned ``[E, 2, d, d]`` maps are differentiable in ``x`` and ``scale``.
    """
    num_nodes = x.size(0)
    flat = x.reshape(num_nodes, -1)
    w = (flat[edges[:, 0]] - flat[edges[:, 1]]).pow(2).sum(-1).add(1e-12).sqrt()
    w = w / w.mean().clamp(min=1e-12) if w.numel() else w
    sheaf = local_homology_sheaf(edges, triangles, num_nodes, edge_weight=w.detach(),
                                 stalk_width=stalk_width, dtype=x.dtype)
    sheaf.restriction = sheaf.restriction.to(x.device)
    for name in ("vertex_mask", "edge_mask", "vertex_birth", "edge_birth"):
        setattr(sheaf, name, getattr(sheaf, name).to(x.device))
    return persistent_restriction(sheaf, edges, w, scale, temperature)
