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
broken by edge index, between triangles by their second-largest edge), each
essential class of the filtered relative complex is born at a definite
simplex. Classes are ordered by birth and the stalk basis is the
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

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from topoequi.topology.sheaf_bases import (
    EdgeH2Bases,
    checked_input,
    fill_vertex_h1,
    fill_vertex_h2,
    incidences,
    link_components,
    stalks,
)


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
    ed, tr, w = checked_input(edges, triangles, num_nodes, edge_weight)
    inc = incidences(ed, tr, int(num_nodes), w)
    links = link_components(inc)
    st = stalks(inc, links, stalk_width)
    fill_vertex_h1(inc, links, st)
    if inc.num_triangles:
        fill_vertex_h2(inc, st, EdgeH2Bases(inc, st))
    d = st.d
    return LocalHomologySheaf(
        vertex_dims=torch.from_numpy(st.vertex_dims), edge_dims=torch.from_numpy(st.edge_dims),
        restriction=torch.from_numpy(st.restriction).to(dtype or torch.get_default_dtype()),
        vertex_mask=torch.from_numpy(np.arange(d)[None, :] < st.vertex_dims.sum(1, keepdims=True)),
        edge_mask=torch.from_numpy(np.arange(d)[None, :] < st.edge_dims.sum(1, keepdims=True)),
        vertex_birth=torch.from_numpy(st.vertex_birth), edge_birth=torch.from_numpy(st.edge_birth))
