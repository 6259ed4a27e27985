"""Radius search and radius graphs in pure torch (PyG / torch-cluster semantics).

A pair is a neighbour pair when both points belong to the same example and
their squared distance, computed in the input dtype as
:math:`\\sum_d (x_{j,d} - y_{i,d})^2`, is strictly below :math:`r^2` (rounded
to that dtype) -- the test torch-cluster applies.  For every query the
neighbours are returned in ascending index order; when there are more than
``max_num_neighbors`` of them, the ones with the smallest indices are kept.
That is the order and the choice of torch-cluster's CUDA kernel (its CPU
kd-tree keeps an arbitrary subset instead).
"""
from __future__ import annotations

import torch
from torch import Tensor

from topoequi.graph import accelerated
from topoequi.graph.candidates import AllPairs, CellGrid, Chunk, Segments
from topoequi.graph.checks import (
    check_batch,
    check_batch_size,
    check_flag,
    check_flow,
    check_max_num_neighbors,
    check_points,
    check_radius,
    check_same_space,
)

BRUTE_FORCE_PAIRS = 1 << 21
"""Searches with at most this many same-example pairs test them all instead of hashing cells."""


def radius(
    x: Tensor,
    y: Tensor,
    r: float,
    batch_x: Tensor | None = None,
    batch_y: Tensor | None = None,
    max_num_neighbors: int | None = 32,
    batch_size: int | None = None,
) -> Tensor:
    r"""For every point of ``y``, the points of ``x`` of the same example closer than ``r``.

    .. math::
        \mathcal{N}(i) = \{\, j : b^x_j = b^y_i,\ \lVert \mathbf{x}_j - \mathbf{y}_i \rVert < r \,\}

    Args:
        x (torch.Tensor): Points :math:`\mathbf{X} \in \mathbb{R}^{N \times D}`.
        y (torch.Tensor): Queries :math:`\mathbf{Y} \in \mathbb{R}^{M \times D}` (same dtype).
        r (float): The radius (``>= 0``; the test is strict).
        batch_x (torch.Tensor, optional): Sorted example of every point of ``x``.
            (default: ``None``, one example)
        batch_y (torch.Tensor, optional): Sorted example of every query. (default: ``None``)
        max_num_neighbors (int, optional): Keep at most this many neighbours per
            query, those of smallest index; ``None`` keeps all. (default: ``32``)
        batch_size (int, optional): Number of examples, inferred when ``None``.

    Returns:
        ``[2, E]`` long tensor: row 0 indexes ``y``, row 1 indexes ``x``;
        sorted by row 0, then row 1.
    """
    return _radius("radius", x, y, r, batch_x, batch_y, max_num_neighbors, batch_size, False,
                   False)


def radius_graph(
    x: Tensor,
    r: float,
    batch: Tensor | None = None,
    loop: bool = False,
    max_num_neighbors: int | None = 32,
    flow: str = "source_to_target",
    batch_size: int | None = None,
) -> Tensor:
    r"""Edges between all points of the same example closer than ``r``.

    Args:
        x (torch.Tensor): Node positions :math:`\mathbf{X} \in \mathbb{R}^{N \times D}`.
        r (float): The radius (strict test, ``>= 0``).
        batch (torch.Tensor, optional): Sorted example of every node. (default: ``None``)
        loop (bool, optional): Include self-loops. (default: ``False``)
        max_num_neighbors (int, optional): At most this many incoming neighbours
            per target, those of smallest index (self-loops are not counted when
            ``loop=False``); ``None`` keeps all. (default: ``32``)
        flow (str, optional): ``"source_to_target"`` gives ``edge_index[0]`` =
            source :math:`j`, ``edge_index[1]`` = target :math:`i`;
            ``"target_to_source"`` swaps the rows. (default: ``"source_to_target"``)
        batch_size (int, optional): Number of examples, inferred when ``None``.

    Returns:
        ``[2, E]`` long tensor, sorted by target, then source.
    """
    fn = "radius_graph"
    check_flow(fn, flow)
    check_flag(fn, "loop", loop)
    return _radius(fn, x, x, r, batch, batch, max_num_neighbors, batch_size, not loop,
                   flow == "source_to_target")


@torch.no_grad()
def _radius(fn: str, x: Tensor, y: Tensor, r: float, batch_x: Tensor | None,
            batch_y: Tensor | None, max_num_neighbors: int | None,
            batch_size: int | None, ignore_self: bool, source_first: bool) -> Tensor:
    """``[2, E]`` pairs (query, point), or (point, query) if ``source_first``."""
    check_points(fn, "x", x)
    check_points(fn, "y", y)
    check_same_space(fn, x, y)
    r = check_radius(fn, r)
    cap = check_max_num_neighbors(fn, max_num_neighbors)
    check_batch_size(fn, batch_size)
    batch_x = check_batch(fn, "batch_x" if fn == "radius" else "batch", batch_x, x, batch_size)
    batch_y = check_batch(fn, "batch_y" if fn == "radius" else "batch", batch_y, y, batch_size)
    empty = torch.empty(2, 0, dtype=torch.long, device=x.device)
    if x.size(0) == 0 or y.size(0) == 0 or r == 0.0:
        return empty
    if cap is not None:
        edges = accelerated.radius(x, y, r, batch_x, batch_y, cap, ignore_self)
        if edges is not None:
            return edges.flip(0) if source_first else edges
    num_examples = batch_size or int(max(batch_x.max(), batch_y.max())) + 1
    segments = Segments.build(batch_x, batch_y, num_examples)
    if x.size(1) == 0 or segments.num_all_pairs(num_examples) <= BRUTE_FORCE_PAIRS:
        source = AllPairs(x, segments)
    else:
        source = CellGrid(x, y, segments, r)
    r2 = torch.tensor(r * r, dtype=x.dtype, device=x.device)
    pieces = [_within(x, y, chunk, r2, cap, ignore_self, source_first)
              for chunk in source.chunks(torch.arange(y.size(0), device=x.device))]
    return torch.cat(pieces, 1) if pieces else empty


def _within(x: Tensor, y: Tensor, chunk: Chunk, r2: Tensor, cap: int | None,
            ignore_self: bool, source_first: bool) -> Tensor:
    """The pairs of ``chunk`` closer than ``sqrt(r2)``, sorted, capped at ``cap`` per query."""
    queries, local_row, col = chunk.queries, chunk.local_row, chunk.col
    query_points = y.index_select(0, queries).index_select(0, local_row)
    kept = ((chunk.points - query_points).pow_(2).sum(1) < r2).nonzero().view(-1)
    local_row, col = local_row.index_select(0, kept), col.index_select(0, kept)
    if ignore_self:
        kept = (queries.index_select(0, local_row) != col).nonzero().view(-1)
        local_row, col = local_row.index_select(0, kept), col.index_select(0, kept)
    if not chunk.cols_sorted:
        order = torch.argsort(local_row * x.size(0) + col)
        local_row, col = local_row.index_select(0, order), col.index_select(0, order)
    if cap is not None and local_row.numel() > 0:
        counts = torch.bincount(local_row, minlength=queries.numel())
        if int(counts.max()) > cap:
            start = counts.cumsum(0) - counts
            rank = torch.arange(local_row.numel(), device=x.device) - start.index_select(0, local_row)
            kept = (rank < cap).nonzero().view(-1)
            local_row, col = local_row.index_select(0, kept), col.index_select(0, kept)
    row = queries.index_select(0, local_row)
    return torch.stack([col, row] if source_first else [row, col])
