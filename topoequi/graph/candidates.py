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

import itertools
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
    """Candidates of the queries ``queries`` (ascending): ``queries[local_row]`` and ``col``."""

    queries: Tensor
    local_row: Tensor
    col: Tensor
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
    return run, offset[run] + torch.arange(total, device=length.device)


class AllPairs:
    """Every pair of a query with a point of its own example, columns ascending per row."""

    def __init__(self, segments: Segments) -> None:
        self.segments = segments

    def chunks(self, queries: Tensor) -> Iterator[Chunk]:
        ptr_x, count_x, _, batch_y = self.segments
        example = batch_y[queries]
        counts = count_x[example]
        for a, b in chunk_bounds(counts, CHUNK_PAIRS):
            local_row, col = expand_runs(ptr_x[example[a:b]], counts[a:b])
            yield Chunk(queries[a:b], local_row, col, True)


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
        self.x = x[:, self.dims].double()
        self.y = y[:, self.dims].double()
        key = self._key(segments.batch_x, self._cells(self.x))
        self.sorted_key, self.perm = torch.sort(key, stable=True)
        num_keys = num_examples * math.prod(self.shape)
        self.table = None
        if num_keys <= 8 * x.size(0) + (1 << 16):
            counts = torch.bincount(key, minlength=num_keys)
            self.table = torch.zeros(num_keys + 1, dtype=torch.long, device=x.device)
            torch.cumsum(counts, 0, out=self.table[1:])
        offsets = list(itertools.product(range(-REACH, REACH + 1), repeat=len(self.dims) - 1))
        self.offsets = torch.tensor(offsets, dtype=torch.long, device=x.device).view(
            len(offsets), len(self.dims) - 1)

    def _cells(self, points: Tensor) -> Tensor:
        return ((points - self.lo) / self.cell).floor().long() + REACH

    def _key(self, example: Tensor, cells: Tensor) -> Tensor:
        key = example
        for axis, size in enumerate(self.shape):
            key = key * size + cells[..., axis]
        return key

    def _run(self, key_lo: Tensor, key_hi: Tensor) -> tuple[Tensor, Tensor]:
        """First sorted position and length of the points with keys in ``[key_lo, key_hi]``."""
        if self.table is not None:
            first = self.table[key_lo]
            return first, self.table[key_hi + 1] - first
        first = torch.searchsorted(self.sorted_key, key_lo)
        return first, torch.searchsorted(self.sorted_key, key_hi, right=True) - first

    def _columns(self, queries: Tensor) -> tuple[Tensor, Tensor]:
        """Runs ``[first, first + length)`` of sorted positions, ``[q, P]`` per query."""
        point = self.y[queries]
        cells = self._cells(point)
        example = self.segments.batch_y[queries]
        plane = cells[:, None, :-1] + self.offsets  # [q, P, d - 1]
        low = self.lo[:-1] + (plane - REACH).double() * self.cell
        gap = ((low - point[:, None, :-1]).clamp(min=0)
               + (point[:, None, :-1] - low - self.cell).clamp(min=0))
        height2 = self.search_radius ** 2 - gap.pow(2).sum(-1)  # [q, P]
        height = height2.clamp(min=0).sqrt()
        z = point[:, -1:]
        z_lo = self._cells_z(z - height).clamp(min=0)
        z_hi = self._cells_z(z + height).clamp(max=self.shape[-1] - 1)
        column = self._key(example[:, None].expand(-1, plane.size(1)),
                           torch.cat([plane, torch.zeros_like(plane[..., :1])], -1))
        first, length = self._run(column + z_lo, column + z_hi)
        return first, torch.where(height2 >= 0, length, torch.zeros_like(length))

    def _cells_z(self, z: Tensor) -> Tensor:
        return ((z - self.lo[-1]) / self.cell).floor().long() + REACH

    def chunks(self, queries: Tensor) -> Iterator[Chunk]:
        block = max(1, CHUNK_PAIRS // (8 * self.offsets.size(0)))
        for part in queries.split(block):
            first, length = self._columns(part)
            per_query = length.sum(1)
            width = first.size(1)
            for a, b in chunk_bounds(per_query, CHUNK_PAIRS):
                run, position = expand_runs(first[a:b].reshape(-1), length[a:b].reshape(-1))
                yield Chunk(part[a:b], torch.div(run, width, rounding_mode="floor"),
                            self.perm[position], False)
