"""Candidate neighbour pairs, produced in chunks of bounded size.

A search over queries ``y`` [M, D] and points ``x`` [N, D] (both grouped into
examples by sorted batch vectors) is reduced to *candidate pairs*
``(row, col)``: ``row`` indexes ``y``, ``col`` indexes ``x``, and the pairs
are a superset of every same-example pair closer than a search radius.  The
caller computes the exact distances and filters.  Two generators:

* :class:`AllPairs` -- every same-example pair.  Right for many small
  examples (a batch of molecules); columns come out sorted within each row.
* :class:`CellGrid` -- sort-based spatial hashing: points are bucketed into
  cubic cells of side :math:`c = r_s / R` (``REACH`` = :math:`R`) over at most
  three coordinates, keyed by ``(example, cell)`` and sorted.  Along the last
  grid axis the cells of one column are contiguous in the sorted order, so a
  query reads one contiguous run per column of its
  :math:`(2R + 1)^{d-1}` neighbouring columns, trimmed to the
  :math:`z`-range :math:`|z - z_q| \\le \\sqrt{r_s^2 - g^2}` allowed by the
  column's in-plane gap :math:`g` to the query.  Columns are *not* sorted
  within a row.

Both bound the memory of one chunk by ``CHUNK_PAIRS`` candidate pairs (plus the
candidates of a single query), so no ``N x N`` matrix is ever formed.  The cell
arithmetic is done in float64 with a search radius :math:`r_s` slightly larger
than the requested one, so every pair the exact test in the input dtype could
accept is a candidate.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import torch
from torch import Tensor

CHUNK_PAIRS = 1 << 21
"""Candidate pairs materialised at once (a chunk may exceed it by one query's candidates)."""

REACH = 2
"""Cells per search radius along each grid axis (the grid's cell side is ``r_s / REACH``)."""

GRID_DIMS = 3
"""At most this many coordinates (those of largest extent) are hashed into cells."""

_MAX_KEYS = 1 << 55


class Chunk(NamedTuple):
    """Candidates of the queries ``queries``: pairs ``(queries[local_row], col)``.

    ``points`` holds ``x[col]`` (gathered from a cache-friendly layout);
    ``cols_sorted`` says whether ``col`` ascends within each row.
    """

    queries: Tensor
    local_row: Tensor
    col: Tensor
    points: Tensor
    cols_sorted: bool


class Segments(NamedTuple):
    """The examples of a search as CSR pointers into ``x`` and the example of every query."""

    ptr_x: Tensor  # [B + 1]
    count_x: Tensor  # [B]
    batch_x: Tensor  # [N]
    batch_y: Tensor  # [M]

    @classmethod
    def build(cls, batch_x: Tensor, batch_y: Tensor, num_examples: int) -> Segments:
        count_x = torch.bincount(batch_x, minlength=num_examples)
        ptr_x = torch.zeros(num_examples + 1, dtype=torch.long, device=batch_x.device)
        torch.cumsum(count_x, 0, out=ptr_x[1:])
        return cls(ptr_x, count_x, batch_x, batch_y)

    def num_all_pairs(self, num_examples: int) -> int:
        count_y = torch.bincount(self.batch_y, minlength=num_examples)
        return int((self.count_x * count_y).sum())


def search_margin(x: Tensor, y: Tensor) -> tuple[float, float]:
    """Relative and absolute slack that make float64 cells cover the dtype's exact test."""
    eps = torch.finfo(x.dtype).eps
    scale = max(float(x.abs().max()) if x.numel() else 0.0,
                float(y.abs().max()) if y.numel() else 0.0)
    return 8.0 * (x.size(1) + 2) * eps, 16.0 * torch.finfo(torch.float64).eps * scale


def chunk_bounds(counts: Tensor, budget: int) -> list[tuple[int, int]]:
    """Split consecutive items with ``counts`` into runs of about ``budget`` in total."""
    if counts.numel() == 0:
        return []
    start = counts.cumsum(0) - counts
    _, sizes = torch.unique_consecutive(torch.div(start, max(budget, 1), rounding_mode="floor"),
                                        return_counts=True)
    ends = sizes.cumsum(0).tolist()
    return list(zip([0] + ends[:-1], ends))


def expand_runs(first: Tensor, length: Tensor) -> tuple[Tensor, Tensor]:
    """For runs ``[first, first + length)``: the run id and the value of every element."""
    total = int(length.sum())
    run = torch.repeat_interleave(torch.arange(length.numel(), device=length.device), length,
                                  output_size=total)
    offset = first - (length.cumsum(0) - length)
    return run, offset.index_select(0, run) + torch.arange(total, device=length.device)


class AllPairs:
    """Every pair of a query with a point of its own example, columns ascending per row."""

    def __init__(self, x: Tensor, segments: Segments) -> None:
        self.x = x
        self.segments = segments

    def chunks(self, queries: Tensor) -> Iterator[Chunk]:
        ptr_x, count_x, _, batch_y = self.segments
        example = batch_y[queries]
        counts = count_x[example]
        for a, b in chunk_bounds(counts, CHUNK_PAIRS):
            local_row, col = expand_runs(ptr_x[example[a:b]], counts[a:b])
            yield Chunk(queries[a:b], local_row, col, self.x.index_select(0, col), True)


class CellGrid:
    """Sort-based spatial hash of ``x`` answering "all points within ``radius``" per query.

    Args:
        x, y: points and queries, ``[N, D]`` and ``[M, D]``.
        segments: the examples (:class:`Segments`).
        radius: the search radius; candidates cover every pair whose distance
            could test below it in the input dtype.
    """

    def __init__(self, x: Tensor, y: Tensor, segments: Segments, radius: float) -> None:
        self.segments = segments
        lo = torch.minimum(x.min(0).values, y.min(0).values).double()
        hi = torch.maximum(x.max(0).values, y.max(0).values).double()
        extent = hi - lo
        self.dims = torch.argsort(extent, descending=True, stable=True)[:GRID_DIMS].sort().values
        rel, absolute = search_margin(x, y)
        self.search_radius = radius * (1.0 + rel) + absolute
        num_examples = segments.count_x.numel()
        grid_extent = extent[self.dims]
        cell = self.search_radius / REACH
        widest = float(grid_extent.max())
        per_axis = (_MAX_KEYS / num_examples) ** (1.0 / len(self.dims)) - 2 * REACH - 2
        if cell <= 0 or widest / cell > per_axis:
            cell = max(widest / max(per_axis, 1.0), cell, 1e-300)
        self.cell = cell
        self.lo = lo[self.dims]
        self.shape = [int(s) for s in (grid_extent / cell).floor().long() + 2 * REACH + 1]
        # Strides of the key ((example * G0 + c0) * G1 + c1) * G2 + c2.
        strides = [math.prod(self.shape[axis + 1:]) for axis in range(len(self.shape))]
        self.example_stride = math.prod(self.shape)
        self.plane_strides = torch.tensor(strides[:-1], dtype=torch.long, device=x.device)
        self.y_cells = self._relative(y)
        key = (segments.batch_x * self.example_stride
               + self._relative(x).floor().long() @ torch.tensor(strides, device=x.device))
        self.sorted_key, self.perm = torch.sort(key, stable=True)
        self.sorted_points = x.index_select(0, self.perm)
        num_keys = num_examples * self.example_stride
        self.table = None
        if num_keys <= 8 * x.size(0) + (1 << 16):
            counts = torch.bincount(key, minlength=num_keys)
            self.table = torch.zeros(num_keys + 1, dtype=torch.long, device=x.device)
            torch.cumsum(counts, 0, out=self.table[1:])
        # Neighbouring columns: key offsets, and the in-plane gap to a column at
        # offset o for a query at fraction u of its cell: (o - u) if o > 0,
        # (-o - 1 + u) if o < 0, 0 if o = 0 (in cells) -- i.e. a + s * u.
        steps = torch.arange(-REACH, REACH + 1, device=x.device)
        self.gap_a = torch.where(steps > 0, steps, (-steps - 1).clamp(min=0)).double()
        self.gap_s = -steps.sign().double()
        offsets = torch.zeros(1, dtype=torch.long, device=x.device)
        for stride in strides[:-1]:
            offsets = (offsets[:, None] + steps * stride).reshape(-1)
        self.column_offsets = offsets
        self.radius_cells = self.search_radius / cell

    def _relative(self, points: Tensor) -> Tensor:
        """Coordinates in cell units on the padded grid (float64); ``floor`` gives the cell."""
        return (points[:, self.dims].double() - self.lo) / self.cell + REACH

    def _run(self, key_lo: Tensor, key_hi: Tensor) -> tuple[Tensor, Tensor]:
        """First sorted position and length of the points with keys in ``[key_lo, key_hi]``."""
        if self.table is not None:
            first = self.table.index_select(0, key_lo.view(-1)).view_as(key_lo)
            return first, self.table.index_select(0, key_hi.view(-1) + 1).view_as(key_hi) - first
        first = torch.searchsorted(self.sorted_key, key_lo)
        return first, torch.searchsorted(self.sorted_key, key_hi, right=True) - first

    def _columns(self, queries: Tensor) -> tuple[Tensor, Tensor]:
        """Runs ``[first, first + length)`` of sorted positions, ``[q, P]`` per query."""
        rel = self.y_cells.index_select(0, queries)
        cell = rel.floor()
        frac = rel - cell
        cell = cell.long()
        base = (self.segments.batch_y.index_select(0, queries) * self.example_stride
                + (cell[:, :-1] * self.plane_strides).sum(1))
        gap2 = torch.zeros_like(rel[:, :1])
        for axis in range(rel.size(1) - 1):  # separable: squared gaps add over plane axes
            g = (self.gap_a + self.gap_s * frac[:, axis:axis + 1]).pow_(2)
            gap2 = (gap2[:, :, None] + g[:, None, :]).reshape(rel.size(0), -1)
        height2 = self.radius_cells ** 2 - gap2  # [q, P]
        height = height2.clamp(min=0).sqrt_()
        z = rel[:, -1:]
        z_lo = (z - height).floor_().long().clamp_(min=0)
        z_hi = (z + height).floor_().long().clamp_(max=self.shape[-1] - 1)
        column = base[:, None] + self.column_offsets
        first, length = self._run(column + z_lo, column + z_hi)
        return first, length.masked_fill_(height2 < 0, 0)

    def chunks(self, queries: Tensor) -> Iterator[Chunk]:
        block = max(1, CHUNK_PAIRS // (8 * self.column_offsets.numel()))
        for part in queries.split(block):
            first, length = self._columns(part)
            per_query = length.sum(1)
            width = first.size(1)
            for a, b in chunk_bounds(per_query, CHUNK_PAIRS):
                run, position = expand_runs(first[a:b].reshape(-1), length[a:b].reshape(-1))
                yield Chunk(part[a:b], torch.div(run, width, rounding_mode="floor"),
                            self.perm.index_select(0, position),
                            self.sorted_points.index_select(0, position), False)
