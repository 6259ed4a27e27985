import importlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from topoequi.graph import accelerated, candidates, radius, radius_graph
from topoequi.typing import WITH_PYG_LIB, WITH_TORCH_CLUSTER

radius_module = importlib.import_module("topoequi.graph.radius")


def reference_radius(x, y, r, batch_x, batch_y, cap, ignore_self):
    """Dense brute force: every query, every point, in index order; the first ``cap`` kept."""
    r2 = torch.tensor(r * r, dtype=x.dtype)
    rows, cols = [], []
    for i in range(y.size(0)):
        d2 = (x - y[i]).pow(2).sum(1)
        hit = (d2 < r2) & (batch_x == batch_y[i])
        if ignore_self:
            hit[i] = False
        found = hit.nonzero().view(-1).tolist()[:cap]
        rows += [i] * len(found)
        cols += found
    return torch.tensor([rows, cols], dtype=torch.long).view(2, -1)


def reference_graph(x, r, batch, loop, cap, flow):
    edges = reference_radius(x, x, r, batch, batch, cap, not loop)
    return edges.flip(0) if flow == "source_to_target" else edges


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("loop, flow", [(False, "source_to_target"), (True, "target_to_source")])
@pytest.mark.parametrize("cap", [None, 3, 32])
def test_radius_graph_matches_brute_force(method, dtype, loop, flow, cap, sorted_batch):
    gen = torch.Generator().manual_seed(0)
    batch = sorted_batch([60, 0, 1, 90, 25])  # includes an empty and a one-node example
    x = torch.rand(batch.numel(), 3, generator=gen, dtype=dtype)
    expected = reference_graph(x, 0.3, batch, loop, cap, flow)
    out = radius_graph(x, 0.3, batch, loop=loop, max_num_neighbors=cap, flow=flow)
    assert out.dtype == torch.long
    assert torch.equal(out, expected)  # same edges in the same (documented) order
    if cap is None:
        assert out.size(1) > 800


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
def test_radius_bipartite_matches_brute_force(method, dim, sorted_batch):
    gen = torch.Generator().manual_seed(dim)
    batch_x, batch_y = sorted_batch([40, 70, 0]), sorted_batch([30, 0, 20])
    x = torch.randn(batch_x.numel(), dim, generator=gen, dtype=torch.float64)
    y = torch.randn(batch_y.numel(), dim, generator=gen, dtype=torch.float64)
    r = {1: 0.05, 2: 0.3, 3: 0.5, 5: 1.5}[dim]
    expected = reference_radius(x, y, r, batch_x, batch_y, 5, False)
    out = radius(x, y, r, batch_x, batch_y, max_num_neighbors=5)
    assert torch.equal(out, expected)
    assert out.size(1) > 20


def test_hand_computed_square():
    x = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    # Sides have length 2 (< 2.5), diagonals 2*sqrt(2) (> 2.5).
    out = radius_graph(x, 2.5)
    assert out.tolist() == [[1, 2, 0, 3, 0, 3, 1, 2], [0, 0, 1, 1, 2, 2, 3, 3]]
    y = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    assert radius(x, y, 1.5).tolist() == [[0, 0, 1, 1], [0, 1, 2, 3]]


def test_test_is_strict_and_rounded_in_dtype(method):
    x = torch.tensor([[0.0], [1.0], [2.0], [0.5]])
    # Pairs at distance exactly 1 (0-1, 1-2) are excluded.
    assert radius_graph(x, 1.0, flow="target_to_source").tolist() == [[0, 1, 3, 3], [3, 3, 0, 1]]
    # Distance exactly r: not an edge; a hair above r: an edge.
    assert radius_graph(x[:2], 1.0).size(1) == 0
    assert radius_graph(x[:2], 1.0 + 1e-6).size(1) == 2


def test_cap_keeps_smallest_indices(method):
    # Node 0 in the middle; all others within r of it.
    x = torch.tensor([[0.0], [0.3], [-0.1], [0.2], [-0.4], [0.1]])
    out = radius_graph(x, 0.5, max_num_neighbors=2, flow="target_to_source")
    assert out[1][out[0] == 0].tolist() == [1, 2]
    assert out[1][out[0] == 5].tolist() == [0, 1]  # 5's neighbours: 0, 1, 2, 3; keep 0, 1
    # Self-loops do not count against the cap when loop=False, and count when loop=True.
    looped = radius_graph(x, 0.5, loop=True, max_num_neighbors=2, flow="target_to_source")
    assert looped[1][looped[0] == 0].tolist() == [0, 1]
    assert looped[1][looped[0] == 3].tolist() == [0, 1]


def test_empty_and_single_node():
    for n in (0, 1):
        out = radius_graph(torch.zeros(n, 3), 1.0)
        assert out.shape == (2, 0) and out.dtype == torch.long
    assert radius(torch.zeros(0, 3), torch.zeros(0, 3), 1.0).shape == (2, 0)
    assert radius(torch.zeros(1, 3), torch.zeros(1, 3), 1.0).tolist() == [[0], [0]]
    assert radius_graph(torch.zeros(1, 3), 1.0, loop=True).tolist() == [[0], [0]]
    assert radius(torch.zeros(0, 2), torch.zeros(4, 2), 1.0).shape == (2, 0)
    assert radius_graph(torch.rand(5, 3), 0.0).shape == (2, 0)


def test_hard_geometry_on_the_grid(monkeypatch):
    monkeypatch.setattr(radius_module, "BRUTE_FORCE_PAIRS", 0)
    gen = torch.Generator().manual_seed(1)
    clouds = {
        "far from origin": 1e4 + torch.rand(150, 3, generator=gen, dtype=torch.float64),
        "float32 far from origin": 1e3 + torch.rand(150, 3, generator=gen),
        "identical points": torch.ones(50, 3),
        "collinear in 3-D": torch.rand(100, 1, generator=gen) * torch.tensor([[1.0, 2.0, -1.0]]),
        "lattice (many ties at r)": torch.cartesian_prod(*[torch.arange(5.0)] * 3),
        "cluster and outliers": torch.cat([torch.rand(100, 3, generator=gen) * 0.01,
                                           torch.rand(20, 3, generator=gen) * 100]),
    }
    for name, x in clouds.items():
        for r in (1.0, 0.05):
            expected = reference_graph(x, r, torch.zeros(x.size(0), dtype=torch.long), False, None,
                                       "source_to_target")
            assert torch.equal(radius_graph(x, r, max_num_neighbors=None), expected), name


@settings(max_examples=25, deadline=None)
@given(points=st.lists(st.tuples(*[st.integers(-4, 4)] * 3), min_size=1, max_size=40),
       scale=st.sampled_from([1.0, 0.1, 0.3]), r=st.sampled_from([0.1, 0.3, 1.0, 2.0]),
       cap=st.sampled_from([None, 1, 4]), split=st.integers(0, 40))
def test_property_lattice_points_with_ties(points, scale, r, cap, split):
    # Integer lattice times a scale: many duplicates and pairs at exactly r.
    x = torch.tensor(points, dtype=torch.float32) * scale
    batch = (torch.arange(x.size(0)) >= split).long()
    expected = reference_graph(x, r, batch, False, cap, "source_to_target")
    for limit in (0, 1 << 40):
        with pytest.MonkeyPatch.context() as mp:   # hypothesis reruns the body: no function-scoped fixture
            mp.setattr(radius_module, "BRUTE_FORCE_PAIRS", limit)
            assert torch.equal(radius_graph(x, r, batch, max_num_neighbors=cap), expected)


def test_chunks_bound_the_work(monkeypatch):
    monkeypatch.setattr(radius_module, "BRUTE_FORCE_PAIRS", 0)
    monkeypatch.setattr(candidates, "CHUNK_PAIRS", 2000)
    sizes = []
    original = radius_module._within

    def spy(x, y, chunk, *args):
        sizes.append(chunk.col.numel())
        return original(x, y, chunk, *args)

    monkeypatch.setattr(radius_module, "_within", spy)
    x = torch.rand(600, 3, generator=torch.Generator().manual_seed(2))
    out = radius_graph(x, 0.15, max_num_neighbors=None)
    assert len(sizes) > 5
    per_query_max = 400  # no query has this many candidates at this density
    assert max(sizes) <= 2000 + per_query_max
    assert torch.equal(out, reference_graph(x, 0.15, torch.zeros(600, dtype=torch.long), False,
                                            None, "source_to_target"))


@pytest.mark.parametrize("call, error, match", [
    (lambda: radius_graph(torch.rand(4), 1.0), ValueError, "'x' must be 2-D"),
    (lambda: radius_graph(torch.arange(6).view(3, 2), 1.0), TypeError, "'x' must have a floating"),
    (lambda: radius_graph([[0.0, 1.0]], 1.0), TypeError, "'x' must be a torch.Tensor"),
    (lambda: radius_graph(torch.tensor([[0.0], [float("nan")]]), 1.0), ValueError, "NaN or inf"),
    (lambda: radius_graph(torch.tensor([[0.0], [float("inf")]]), 1.0), ValueError, "NaN or inf"),
    (lambda: radius_graph(torch.rand(3, 2), -0.5), ValueError, "'r' must be finite and >= 0"),
    (lambda: radius_graph(torch.rand(3, 2), float("nan")), ValueError, "'r' must be finite"),
    (lambda: radius_graph(torch.rand(3, 2), "1"), TypeError, "'r' must be a real number"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, torch.tensor([0, 1])), ValueError,
     "'batch' must be 1-D with one entry per point"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, torch.tensor([1, 0, 0])), ValueError,
     "'batch' must be sorted"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, torch.tensor([0.0, 0.0, 1.0])), TypeError,
     "'batch' must have an integer dtype"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, torch.tensor([-1, 0, 0])), ValueError,
     "'batch' must be non-negative"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, torch.tensor([0, 0, 2]), batch_size=2),
     ValueError, "batch_size=2"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, max_num_neighbors=0), ValueError,
     "'max_num_neighbors' must be >= 1"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, max_num_neighbors=2.5), TypeError,
     "'max_num_neighbors' must be an int"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, flow="up"), ValueError, "'flow' must be one of"),
    (lambda: radius_graph(torch.rand(3, 2), 1.0, loop=1), TypeError, "'loop' must be a bool"),
    (lambda: radius(torch.rand(3, 2), torch.rand(3, 2, dtype=torch.float64), 1.0), TypeError,
     "'x' and 'y' must have the same dtype"),
    (lambda: radius(torch.rand(3, 2), torch.rand(3, 3), 1.0), ValueError, "same number of columns"),
    (lambda: radius(torch.rand(3, 2), torch.rand(2, 2), 1.0, None, torch.tensor([1, 0])),
     ValueError, "radius: 'batch_y' must be sorted"),
])
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_batch_on_another_device_is_rejected():
    with pytest.raises(ValueError, match="'batch' is on"):
        radius_graph(torch.rand(3, 2, device="cuda"), 1.0, torch.zeros(3, dtype=torch.long))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(method, sorted_batch):
    x = torch.rand(500, 3, generator=torch.Generator().manual_seed(3))
    batch = sorted_batch([200, 300])
    expected = radius_graph(x, 0.2, batch, max_num_neighbors=5)
    assert torch.equal(radius_graph(x.cuda(), 0.2, batch.cuda(), max_num_neighbors=5).cpu(),
                       expected)


def test_compiled_backend_results_are_canonicalised(monkeypatch, sorted_batch):
    """A backend returning neighbours in arbitrary order (as a kd-tree does) gives identical output."""
    gen = torch.Generator().manual_seed(4)
    x = torch.rand(150, 3, generator=gen)
    batch = sorted_batch([70, 80])
    calls = []

    def shuffled_backend(x_, y_, r_, batch_x, batch_y, limit):
        calls.append(limit)
        full = reference_radius(x_, y_, r_, batch_x, batch_y, None, False)
        rows = []
        for i in range(y_.size(0)):  # an arbitrary subset of `limit` per query, shuffled
            mine = full[:, full[0] == i]
            pick = torch.randperm(mine.size(1), generator=gen)[:limit]
            rows.append(mine[:, pick])
        edges = torch.cat(rows, 1)
        return edges[:, torch.randperm(edges.size(1), generator=gen)]

    monkeypatch.setattr(accelerated, "backends", lambda: (shuffled_backend, None))
    for cap in (3, 64):  # 3: capped rows are detected and recomputed; 64: backend result kept
        expected = reference_graph(x, 0.3, batch, False, cap, "source_to_target")
        assert torch.equal(radius_graph(x, 0.3, batch, max_num_neighbors=cap), expected)
    assert calls == [5, 66]


@pytest.mark.skipif(not (WITH_PYG_LIB or WITH_TORCH_CLUSTER), reason="needs pyg-lib or torch-cluster")
def test_matches_pyg_radius_graph(sorted_batch, monkeypatch):
    from torch_geometric.nn import radius_graph as pyg_radius_graph

    monkeypatch.setattr(accelerated, "ENABLED", False)
    x = torch.rand(400, 3, generator=torch.Generator().manual_seed(5))
    batch = sorted_batch([150, 250])
    ours = radius_graph(x, 0.25, batch, max_num_neighbors=400)
    theirs = pyg_radius_graph(x, 0.25, batch, max_num_neighbors=400)
    key = lambda e: sorted(zip(e[0].tolist(), e[1].tolist()))
    assert key(ours) == key(theirs)
