r"""Differentiable persistence of flag filtrations: clique complexes of graphs and Vietoris-Rips complexes.

A flag filtration is fixed by its vertex and edge values; a higher simplex enters
with its last edge, :math:`f(\sigma) = \max_{e \subset \sigma} f(e)`. The engine
names every creator and destroyer by the vertices of the edge (or the vertex) that
gave it its value, so each diagram point is read back in torch as

.. math::
    b = f(v) \text{ or } f(u, v), \qquad d = f(u', v'),

with :math:`f(u, v) = \lVert x_u - x_v \rVert` for Rips and the given edge values
(or :math:`\max(f(u), f(v))`, the lower-star filtration of node values) for graphs.
See :mod:`topoequi.topology.persistence` for the gradient and its behaviour at ties.
"""
from __future__ import annotations

import itertools
import math

import gudhi
import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist, squareform
from torch import Tensor

from topoequi.topology.complex import clean_edges
from topoequi.topology.persistence import (
    Pairing,
    PersistenceDiagram,
    assemble,
    check_max_dim,
    check_values,
    concat_pairings,
    split_batch,
)
from topoequi.typing import WITH_GIOTTO_PH

ENGINES = ("auto", "gudhi", "giotto-ph")


def flag_pairings(gens: tuple, max_dim: int) -> list[Pairing]:
    """Pairings of dimensions ``0..max_dim`` from flag generators in gudhi's / giotto-ph's layout:
    ``(H0 [n, 3], [Hk [m, 4]], H0 essential [l], [Hk essential [k, 2]])``."""
    reg0, regs, ess0, esss = gens

    def get(arrays: list, k: int, width: int) -> np.ndarray:
        return np.asarray(arrays[k - 1], dtype=np.int64).reshape(-1, width) if len(arrays) >= k \
            else np.zeros((0, width), dtype=np.int64)

    reg0 = np.asarray(reg0, dtype=np.int64).reshape(-1, 3)
    out = [Pairing(reg0[:, :1], reg0[:, 1:], np.asarray(ess0, dtype=np.int64).reshape(-1, 1))]
    for k in range(1, max_dim + 1):
        reg = get(regs, k, 4)
        out.append(Pairing(reg[:, :2], reg[:, 2:], get(esss, k, 2)))
    return out


def gudhi_flag_pairings(num_nodes: int, edges: np.ndarray, vertex_values: np.ndarray,
                        edge_values: np.ndarray, max_dim: int) -> list[Pairing]:
    """Persistence pairs of the flag filtration of one graph (gudhi's simplex tree)."""
    tree = gudhi.SimplexTree()
    tree.insert_batch(np.arange(num_nodes, dtype=np.int64)[None], vertex_values)
    if len(edges):
        tree.insert_batch(np.ascontiguousarray(edges.T), edge_values)
    tree.expansion(max_dim + 1)
    return tree_pairings(tree, max_dim)


def tree_pairings(tree: gudhi.SimplexTree, max_dim: int) -> list[Pairing]:
    """Pairings of a flag simplex tree expanded to ``max_dim + 1``; the top dimension's homology is
    computed only when the complex stops at or below ``max_dim`` (a graph without triangles)."""
    tree.compute_persistence(persistence_dim_max=tree.dimension() <= max_dim)
    return flag_pairings(tree.flag_persistence_generators(), max_dim)


def _diagram(pairings_per_graph: list[list[Pairing]], offsets: list[int], max_dim: int,
             vertex_value, edge_value, device: torch.device) -> PersistenceDiagram:
    widths = [1] + [2] * (max_dim + 1)
    pairings = concat_pairings(pairings_per_graph, offsets, widths)
    values = [lambda idx: vertex_value(idx[:, 0])] + [lambda idx: edge_value(idx[:, 0], idx[:, 1])] * (max_dim + 1)
    return assemble(pairings, values, len(offsets), device)


def clique_diagram(edge_index: Tensor, num_nodes: int, node_values: Tensor | None = None,
                   edge_values: Tensor | None = None, batch: Tensor | None = None,
                   max_dim: int = 1) -> PersistenceDiagram:
    r"""Persistence diagrams of a filtration of a graph's clique complex, differentiable in the values.

    With ``node_values`` only: the lower-star filtration, :math:`f(\sigma) = \max_{v \in \sigma} f(v)`.
    With ``edge_values``: the edge (flag) filtration; vertices enter at ``node_values`` or, when
    those are not given, with their first edge (isolated vertices at the smallest edge value, or 0).
    Both directions or duplicates of an edge keep their smallest value; self-loops are ignored.

    Args:
        edge_index (LongTensor ``[2, E]``): the graph (a PyG ``Batch``'s is fine).
        num_nodes (int): number of vertices.
        node_values (Tensor ``[N]``, optional): vertex filtration values.
        edge_values (Tensor ``[E]``, optional): edge filtration values, per column of ``edge_index``.
        batch (LongTensor ``[N]``, optional): the graph of each vertex, sorted.
        max_dim (int): highest homology dimension (0, 1 or 2). (default: ``1``)
    """
    owner = "clique_diagram"
    check_max_dim(owner, max_dim, 2)
    if num_nodes < 1:
        raise ValueError(f"{owner}: the complex is empty (num_nodes is {num_nodes})")
    edges = clean_edges(edge_index, num_nodes)
    ref = node_values if node_values is not None else edge_values
    if ref is None:
        raise ValueError(f"{owner}: give node_values (lower-star) or edge_values (edge filtration)")
    device = ref.device
    keys = torch.from_numpy(edges[:, 0] * num_nodes + edges[:, 1]).to(device)
    edge_table = _edge_table(owner, edge_index, edge_values, keys, num_nodes)
    vertex_table = _vertex_table(owner, node_values, edge_table, edges, num_nodes, ref)
    edges_t = torch.from_numpy(edges).to(device)
    if edge_table is None:
        edge_table = torch.maximum(vertex_table[edges_t[:, 0]], vertex_table[edges_t[:, 1]])
    elif node_values is not None:
        _check_monotone(owner, vertex_table, edge_table, edges_t)
    ptr, num_graphs = split_batch(owner, batch, vertex_table[:, None])
    graph_of_edge = np.searchsorted(ptr, edges[:, 0], side="right") - 1
    v_np, e_np = vertex_table.detach().cpu().double().numpy(), edge_table.detach().cpu().double().numpy()
    parts = []
    for g in range(num_graphs):
        lo, hi = int(ptr[g]), int(ptr[g + 1])
        if hi == lo:
            raise ValueError(f"{owner}: graph {g} of the batch is empty")
        mask = graph_of_edge == g
        parts.append(gudhi_flag_pairings(hi - lo, edges[mask] - lo, v_np[lo:hi], e_np[mask], max_dim))

    def edge_value(u: Tensor, v: Tensor) -> Tensor:
        return edge_table[torch.searchsorted(keys, torch.minimum(u, v) * num_nodes + torch.maximum(u, v))]

    return _diagram(parts, list(ptr[:-1]), max_dim, lambda v: vertex_table[v], edge_value, device)


def _edge_table(owner: str, edge_index: Tensor, edge_values: Tensor | None, keys: Tensor,
                num_nodes: int) -> Tensor | None:
    """One value per clean edge (the smallest over its copies), differentiable."""
    if edge_values is None:
        return None
    check_values(owner, "edge_values", edge_values, int(edge_index.size(1)))
    ei = edge_index.to(edge_values.device)
    keep = ei[0] != ei[1]
    u, v = ei[0, keep], ei[1, keep]
    pos = torch.searchsorted(keys, torch.minimum(u, v) * num_nodes + torch.maximum(u, v))
    table = edge_values.new_full((keys.numel(),), math.inf)
    return table.scatter_reduce(0, pos, edge_values[keep], reduce="amin")


def _vertex_table(owner: str, node_values: Tensor | None, edge_table: Tensor | None, edges: np.ndarray,
                  num_nodes: int, ref: Tensor) -> Tensor:
    if node_values is not None:
        check_values(owner, "node_values", node_values, num_nodes)
        return node_values
    floor = edge_table.min().detach() if edge_table.numel() else ref.new_zeros(())
    table = floor.expand(num_nodes).clone()
    idx = torch.from_numpy(edges.reshape(-1)).to(ref.device)
    return table.scatter_reduce(0, idx, edge_table.repeat_interleave(2), reduce="amin", include_self=False)


def _check_monotone(owner: str, vertex_table: Tensor, edge_table: Tensor, edges: Tensor) -> None:
    low = torch.maximum(vertex_table[edges[:, 0]], vertex_table[edges[:, 1]])
    bad = edge_table < low
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        raise ValueError(f"{owner}: the filtration is not monotone: edge_values of edge {tuple(edges[i].tolist())} "
                         f"({float(edge_table[i]):.6g}) is below a node_values of its endpoints "
                         f"({float(low[i]):.6g}); a face cannot enter after its coface")


def rips_diagram(pos: Tensor, batch: Tensor | None = None, max_dim: int = 1,
                 max_edge_length: float = math.inf, engine: str = "auto") -> PersistenceDiagram:
    r"""Persistence diagrams of the Vietoris-Rips filtration of point clouds, differentiable in ``pos``.

    Edges enter at their Euclidean length; vertices at 0 (so the H0 births carry no gradient).
    Every birth and death of H1 and above (and every H0 death) is a pairwise distance, read back in torch.

    Args:
        pos (Tensor ``[N, d]``): the points.
        batch (LongTensor ``[N]``, optional): the cloud of each point, sorted.
        max_dim (int): highest homology dimension (0, 1 or 2). (default: ``1``)
        max_edge_length (float): keep only edges up to this length. (default: ``inf``)
        engine (str): ``"giotto-ph"`` (ripser), ``"gudhi"``, or ``"auto"``: giotto-ph when installed.
    """
    owner = "rips_diagram"
    check_max_dim(owner, max_dim, 2)
    if engine not in ENGINES:
        raise ValueError(f"{owner}: engine must be one of {ENGINES}, got {engine!r}")
    if engine == "giotto-ph" and not WITH_GIOTTO_PH:
        raise ImportError(f"{owner}: engine='giotto-ph' needs the giotto-ph package (pip install giotto-ph)")
    if not isinstance(pos, Tensor) or not pos.is_floating_point() or pos.dim() != 2:
        raise ValueError(f"{owner}: pos must be a floating-point tensor [N, d], got "
                         f"{list(pos.shape) if isinstance(pos, Tensor) else type(pos).__name__}")
    if not bool(torch.isfinite(pos).all()):
        raise ValueError(f"{owner}: pos holds NaN or infinite coordinates")
    if not max_edge_length > 0:
        raise ValueError(f"{owner}: max_edge_length must be positive, got {max_edge_length!r}")
    ptr, _ = split_batch(owner, batch, pos)
    sizes = np.diff(ptr)
    if pos.size(0) == 0 or sizes.min() < max_dim + 2:
        raise ValueError(f"{owner}: a point cloud of the batch has {int(sizes.min()) if len(sizes) else 0} "
                         f"points; homology in dimension {max_dim} needs at least {max_dim + 2}")
    points = pos.detach().cpu().double().numpy()
    use_giotto = engine == "giotto-ph" or (engine == "auto" and WITH_GIOTTO_PH)
    parts = [_rips_pairings(points[lo:hi], max_dim, max_edge_length, use_giotto)
             for lo, hi in itertools.pairwise(ptr)]

    def edge_value(u: Tensor, v: Tensor) -> Tensor:
        return torch.linalg.vector_norm(pos[u] - pos[v], dim=-1)

    return _diagram(parts, list(ptr[:-1]), max_dim, lambda v: pos.new_zeros(v.shape), edge_value, pos.device)


def _rips_pairings(points: np.ndarray, max_dim: int, max_edge_length: float, use_giotto: bool) -> list[Pairing]:
    if use_giotto:
        from gph import ripser_parallel

        gens = ripser_parallel(distance_matrix(points, max_edge_length), metric="precomputed", maxdim=max_dim,
                               return_generators=True)["gens"]
        return flag_pairings(gens, max_dim)
    tree = gudhi.RipsComplex(points=points, max_edge_length=max_edge_length).create_simplex_tree(
        max_dimension=max_dim + 1)
    return tree_pairings(tree, max_dim)


def distance_matrix(points: np.ndarray, max_edge_length: float) -> np.ndarray | coo_matrix:
    """All distances (dense) or, with a finite threshold, the sparse matrix of the edges up to it
    (absent entries are infinite for ripser); the sparse one is the faster input from ~100 points."""
    if math.isinf(max_edge_length):
        return squareform(pdist(points))
    pairs = cKDTree(points).query_pairs(max_edge_length, output_type="ndarray").reshape(-1, 2)
    lengths = np.linalg.norm(points[pairs[:, 0]] - points[pairs[:, 1]], axis=1)
    return coo_matrix((lengths, (pairs[:, 0], pairs[:, 1])), shape=(len(points), len(points)))
