"""k-nearest-neighbour search and k-NN graphs in pure torch (PyG / torch-cluster semantics).

Distances are computed in the input dtype: the squared Euclidean distance
:math:`\\sum_d (x_{j,d} - y_{i,d})^2`, or with ``cosine=True`` the cosine
distance :math:`1 - \\langle x_j, y_i \\rangle / (\\lVert x_j \\rVert \\lVert y_i \\rVert)`.
Each query gets the ``k`` closest points of its own example (fewer when the
example is smaller), in ascending distance; ties are broken by smaller index,
as torch-cluster's CUDA kernel does.

Search: examples with few pairs in total are compared exhaustively.
Otherwise (Euclidean) the search is a radius search on a cell grid whose
radius is estimated from the point density; a query is finished once at least
``k`` points (or its whole example) lie inside the radius -- then its ``k``
nearest are exactly among them -- and the unfinished queries are searched
again with twice the radius.  Cosine k-NN is always exhaustive (chunked,
``O(M * N_example)`` time, bounded memory).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from topoequi.graph import accelerated
from topoequi.graph.candidates import AllPairs, CellGrid, Chunk, Segments
from topoequi.graph.checks import (
    check_batch,
    check_batch_size,
    check_flag,
    check_flow,
    check_k,
    check_points,
    check_same_space,
)
from topoequi.graph.radius import BRUTE_FORCE_PAIRS

OVERSAMPLING = 1.5
"""The first radius is chosen to hold about ``OVERSAMPLING * k`` points of a uniform example."""


def knn(
    x: Tensor,
    y: Tensor,
    k: int,
    batch_x: Tensor | None = None,
    batch_y: Tensor | None = None,
    cosine: bool = False,
    batch_size: int | None = None,
) -> Tensor:
    r"""For every point of ``y``, the ``k`` nearest points of ``x`` in the same example.

    Args:
        x (torch.Tensor): Points :math:`\mathbf{X} \in \mathbb{R}^{N \times D}`.
        y (torch.Tensor): Queries :math:`\mathbf{Y} \in \mathbb{R}^{M \times D}` (same dtype).
        k (int): Number of neighbours (``>= 1``).
        batch_x (torch.Tensor, optional): Sorted example of every point. (default: ``None``)
        batch_y (torch.Tensor, optional): Sorted example of every query. (default: ``None``)
        cosine (bool, optional): Use the cosine distance (rows must be non-zero).
            (default: ``False``)
        batch_size (int, optional): Number of examples, inferred when ``None``.

    Returns:
        ``[2, E]`` long tensor: row 0 indexes ``y``, row 1 indexes ``x``; sorted
        by row 0, then by distance, then by row 1.
    """
    return _knn("knn", x, y, k, batch_x, batch_y, cosine, batch_size, False, False)


def knn_graph(
    x: Tensor,
    k: int,
    batch: Tensor | None = None,
    loop: bool = False,
    flow: str = "source_to_target",
    cosine: bool = False,
    batch_size: int | None = None,
) -> Tensor:
    r"""Edges from the ``k`` nearest nodes of the same example to every node.

    Args:
        x (torch.Tensor): Node positions :math:`\mathbf{X} \in \mathbb{R}^{N \times D}`.
        k (int): Number of neighbours per node (``>= 1``).
        batch (torch.Tensor, optional): Sorted example of every node. (default: ``None``)
        loop (bool, optional): If ``True`` a node is its own nearest
            neighbour (distance 0); if ``False`` the node itself is excluded
            and ``k`` other nodes are returned. (default: ``False``)
        flow (str, optional): ``"source_to_target"``: ``edge_index[0]`` =
            neighbour (source), ``edge_index[1]`` = node (target), so every
            target has ``k`` incoming edges. (default: ``"source_to_target"``)
        cosine (bool, optional): Use the cosine distance. (default: ``False``)
        batch_size (int, optional): Number of examples, inferred when ``None``.

    Returns:
        ``[2, E]`` long tensor, sorted by target, then distance, then source.

    .. note::
        torch-cluster drops self-loops from a ``k + 1`` search; the two agree
        unless a node has an exact duplicate, where torch-cluster may keep
        ``k + 1`` neighbours or drop a different one.  Here the node itself is
        always the one excluded.
    """
    fn = "knn_graph"
    check_flow(fn, flow)
    check_flag(fn, "loop", loop)
    return _knn(fn, x, x, k, batch, batch, cosine, batch_size, not loop,
                flow == "source_to_target")


@torch.no_grad()
def _knn(fn: str, x: Tensor, y: Tensor, k: int, batch_x: Tensor | None,
         batch_y: Tensor | None, cosine: bool, batch_size: int | None,
         ignore_self: bool, source_first: bool) -> Tensor:
    """``[2, E]`` pairs (query, point), or (point, query) if ``source_first``."""
    check_points(fn, "x", x)
    check_points(fn, "y", y)
    check_same_space(fn, x, y)
    k = check_k(fn, k)
    check_flag(fn, "cosine", cosine)
    check_batch_size(fn, batch_size)
    batch_x = check_batch(fn, "batch_x" if fn == "knn" else "batch", batch_x, x, batch_size)
    batch_y = check_batch(fn, "batch_y" if fn == "knn" else "batch", batch_y, y, batch_size)
    empty = torch.empty(2, 0, dtype=torch.long, device=x.device)
    if x.size(0) == 0 or y.size(0) == 0:
        return empty
    if cosine:
        for name, points in (("x", x), ("y", y)):
            if bool((points.norm(dim=1) == 0).any()):
                raise ValueError(f"{fn}: '{name}' has all-zero rows; the cosine distance "
                                 f"is undefined for them")
    distance = _Distance(x, y, cosine)
    edges = accelerated.knn(x, y, k, batch_x, batch_y, cosine, ignore_self, distance)
    if edges is not None:
        return edges.flip(0) if source_first else edges
    num_examples = batch_size or int(max(batch_x.max(), batch_y.max())) + 1
    segments = Segments.build(batch_x, batch_y, num_examples)
    # Points each query can reach: its example, minus itself in a graph without loops.
    reachable = segments.count_x[batch_y] - int(ignore_self)
    pending = torch.nonzero(reachable > 0).view(-1)
    if (cosine or x.size(1) == 0
            or segments.num_all_pairs(num_examples) <= BRUTE_FORCE_PAIRS):
        found, _ = _search(AllPairs(x, segments), pending, distance, None, k, reachable, ignore_self)
        return _assemble(found, y.size(0), source_first, empty)
    found = []
    radius = _initial_radius(x, segments, k)
    lo = torch.minimum(x.min(0).values, y.min(0).values).double()
    diameter = float((torch.maximum(x.max(0).values, y.max(0).values).double() - lo).norm())
    while pending.numel() > 0:
        if radius > 2.0 * diameter:  # every point is a candidate anyway: take them all
            done, pending = _search(AllPairs(x, segments), pending, distance, None, k, reachable,
                                    ignore_self)
        else:
            grid = CellGrid(x, y, segments, radius)
            limit = torch.tensor(radius * radius, dtype=x.dtype, device=x.device)
            done, pending = _search(grid, pending, distance, limit, k, reachable, ignore_self)
        found += done
        radius *= 2.0
    return _assemble(found, y.size(0), source_first, empty)


class _Distance:
    """Per-pair distance (squared Euclidean or cosine) in the input dtype."""

    def __init__(self, x: Tensor, y: Tensor, cosine: bool) -> None:
        self.x, self.y, self.cosine = x, y, cosine
        if cosine:
            self.x_norm, self.y_norm = x.norm(dim=1), y.norm(dim=1)

    def __call__(self, col: Tensor, row: Tensor, points: Tensor | None = None) -> Tensor:
        """Distances of pairs ``(row, col)``; ``points`` may supply ``x[col]``."""
        points = self.x[col] if points is None else points
        if not self.cosine:
            return (points - self.y[row]).pow(2).sum(1)
        dot = (points * self.y[row]).sum(1)
        return 1 - dot / (self.x_norm[col] * self.y_norm[row])


def _search(source, queries: Tensor, distance: _Distance, limit: Tensor | None, k: int,
            reachable: Tensor, ignore_self: bool) -> tuple[list[Tensor], Tensor]:
    """k nearest per query among candidates within ``limit`` (all if ``None``).

    Returns the finished ``[2, E]`` pieces and the queries that need a larger radius.
    """
    found, unfinished = [], []
    for chunk in source.chunks(queries):
        edges, finished = _nearest(chunk, distance, limit, k, reachable, ignore_self)
        found.append(edges)
        unfinished.append(chunk.queries[~finished])
    pending = torch.cat(unfinished) if unfinished else queries[:0]
    return found, pending


def _nearest(chunk: Chunk, distance: _Distance, limit: Tensor | None, k: int,
             reachable: Tensor, ignore_self: bool) -> tuple[Tensor, Tensor]:
    """Rows ``[query, point, rank]`` of the finished queries of ``chunk``, and the finished mask."""
    queries, local_row, col = chunk.queries, chunk.local_row, chunk.col
    dist = distance(col, queries.index_select(0, local_row), chunk.points)
    if limit is not None:
        kept = (dist < limit).nonzero().view(-1)
        local_row, col, dist = (t.index_select(0, kept) for t in (local_row, col, dist))
    if ignore_self:
        kept = (queries.index_select(0, local_row) != col).nonzero().view(-1)
        local_row, col, dist = (t.index_select(0, kept) for t in (local_row, col, dist))
    local_row, col = _order_by_distance(local_row, col, dist, chunk.cols_sorted,
                                        distance.x.size(0), distance.cosine)
    counts = torch.bincount(local_row, minlength=queries.numel())
    finished = (counts >= k) | (counts == reachable.index_select(0, queries))
    start = counts.cumsum(0) - counts
    rank = torch.arange(col.numel(), device=col.device) - start.index_select(0, local_row)
    kept = ((rank < k) & finished.index_select(0, local_row)).nonzero().view(-1)
    local_row = local_row.index_select(0, kept)
    found = torch.stack([queries.index_select(0, local_row), col.index_select(0, kept),
                         rank.index_select(0, kept)])
    return found, finished


def _order_by_distance(local_row: Tensor, col: Tensor, dist: Tensor, cols_sorted: bool,
                       num_points: int, cosine: bool) -> tuple[Tensor, Tensor]:
    """Sort pairs by (query, distance, index)."""
    if dist.dtype == torch.float32 and not cosine:
        # Non-negative float32 values order like their bit patterns: one sort on
        # (query, distance) suffices when columns already ascend (stable sort) or
        # when no two keys are equal (the order is then unique).
        packed = (local_row << 32) | dist.view(torch.int32).long()
        packed, order = torch.sort(packed, stable=cols_sorted)
        if cols_sorted or not bool((packed[1:] == packed[:-1]).any()):
            return local_row.index_select(0, order), col.index_select(0, order)
    if not cols_sorted:
        order = torch.argsort(local_row * num_points + col)
        local_row, col, dist = (t.index_select(0, order) for t in (local_row, col, dist))
    order = torch.sort(dist, stable=True).indices
    order = order.index_select(0, torch.sort(local_row.index_select(0, order), stable=True).indices)
    return local_row.index_select(0, order), col.index_select(0, order)


def _initial_radius(x: Tensor, segments: Segments, k: int) -> float:
    """Radius holding about ``OVERSAMPLING * k`` points if each example filled the bounding box."""
    extent = (x.max(0).values - x.min(0).values).double()
    extent = extent[extent > 0].sort(descending=True).values[:3]
    if extent.numel() == 0:
        return 1.0
    dim = extent.numel()
    per_example = x.size(0) / max(int((segments.count_x > 0).sum()), 1)
    unit_ball = math.pi ** (dim / 2) / math.gamma(dim / 2 + 1)
    volume = float(extent.prod())
    return (OVERSAMPLING * k * volume / (per_example * unit_ball)) ** (1.0 / dim)


def _assemble(found: list[Tensor], num_queries: int, source_first: bool,
              empty: Tensor) -> Tensor:
    """Place the ``[query, point, rank]`` pieces in query order: ``[2, E]``."""
    if not found:
        return empty
    pieces = torch.cat(found, 1)
    counts = torch.bincount(pieces[0], minlength=num_queries)
    position = (counts.cumsum(0) - counts).index_select(0, pieces[0]) + pieces[2]
    out = torch.empty(2, pieces.size(1), dtype=torch.long, device=pieces.device)
    out[int(source_first), position] = pieces[0]
    out[int(not source_first), position] = pieces[1]
    return out
