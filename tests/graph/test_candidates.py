"""Candidate pairs of the radius / k-NN searches: exact helper values, every same-example pair from AllPairs,
a superset of the pairs within the radius from CellGrid, chunks bounded by CHUNK_PAIRS."""
import pytest
import torch

from topoequi.graph import candidates
from topoequi.graph.candidates import AllPairs, CellGrid, Segments, chunk_bounds, expand_runs


def pairs_of(generator, queries) -> tuple[set, list]:
    """All candidate pairs ``(query, col)`` and the number of pairs in each chunk."""
    found, sizes = set(), []
    for chunk in generator.chunks(queries):
        rows = chunk.queries[chunk.local_row]
        found |= set(zip(rows.tolist(), chunk.col.tolist()))
        sizes.append(chunk.col.numel())
    return found, sizes


def test_segments_and_helpers_exact():
    segments = Segments.build(torch.tensor([0, 0, 0, 2, 2]), torch.tensor([0, 2, 2]), 3)
    assert segments.ptr_x.tolist() == [0, 3, 3, 5] and segments.count_x.tolist() == [3, 0, 2]
    assert segments.num_all_pairs(3) == 3 * 1 + 2 * 2
    assert chunk_bounds(torch.tensor([3, 3, 3, 3, 3]), 6) == [(0, 2), (2, 4), (4, 5)]
    assert chunk_bounds(torch.tensor([10, 1, 1]), 4) == [(0, 1), (1, 3)]
    assert chunk_bounds(torch.empty(0, dtype=torch.long), 4) == []
    run, value = expand_runs(torch.tensor([5, 0, 9]), torch.tensor([2, 0, 3]))
    assert run.tolist() == [0, 0, 2, 2, 2] and value.tolist() == [5, 6, 9, 10, 11]


def test_all_pairs_gives_every_same_example_pair_in_small_chunks(monkeypatch):
    monkeypatch.setattr(candidates, "CHUNK_PAIRS", 8)
    batch = torch.tensor([0] * 4 + [1] * 3 + [3] * 2)
    x = torch.rand(9, 3, generator=torch.Generator().manual_seed(0))
    generator = AllPairs(x, Segments.build(batch, batch, 4))
    found, sizes = pairs_of(generator, torch.arange(9))
    assert found == {(i, j) for i in range(9) for j in range(9) if batch[i] == batch[j]}
    assert sum(sizes) == len(found) == 16 + 9 + 4                  # no pair twice
    assert max(sizes) <= 8 + 4                                     # the budget plus one query's candidates
    for chunk in generator.chunks(torch.arange(9)):
        assert chunk.cols_sorted and torch.equal(chunk.points, x[chunk.col])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dims", [1, 2, 3, 5])
def test_cell_grid_covers_every_pair_within_the_radius(monkeypatch, dtype, dims):
    monkeypatch.setattr(candidates, "CHUNK_PAIRS", 256)
    gen = torch.Generator().manual_seed(dims)
    batch_x, batch_y = torch.tensor([0] * 150 + [1] * 100), torch.tensor([0] * 40 + [1] * 30)
    x, y = torch.rand(250, dims, generator=gen, dtype=dtype), torch.rand(70, dims, generator=gen, dtype=dtype)
    r = 0.2
    grid = CellGrid(x, y, Segments.build(batch_x, batch_y, 2), r)
    found, sizes = pairs_of(grid, torch.arange(70))
    close = (torch.cdist(y.double(), x.double()) < r) & (batch_y[:, None] == batch_x[None, :])
    within = set(map(tuple, close.nonzero().tolist()))
    assert within and within <= found                             # a superset of the true neighbours
    assert all(batch_y[i] == batch_x[j] for i, j in found)        # never across examples
    assert len(found) < 0.5 * int((batch_y[:, None] == batch_x[None, :]).sum())   # and far fewer than all pairs
    assert len(sizes) > 1 and sum(sizes) == len(found)


def test_cell_grid_pair_at_exactly_the_radius_is_a_candidate():
    x = torch.tensor([[0.0, 0.0, 0.0], [0.3, 0.4, 0.0], [3.0, 0.0, 0.0]])
    batch = torch.zeros(3, dtype=torch.long)
    found, _ = pairs_of(CellGrid(x, x, Segments.build(batch, batch, 1), 0.5), torch.arange(3))
    assert (0, 1) in found and (1, 0) in found and (0, 2) not in found
