import importlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from topoequi.graph import accelerated, knn, knn_graph
from topoequi.typing import WITH_PYG_LIB, WITH_TORCH_CLUSTER

radius_module = importlib.import_module("topoequi.graph.radius")
knn_module = importlib.import_module("topoequi.graph.knn")


def distances(x, y_i, cosine):
    if cosine:
        return 1 - (x * y_i).sum(1) / (x.norm(dim=1) * y_i.norm())
    return (x - y_i).pow(2).sum(1)


def reference_knn(x, y, k, batch_x, batch_y, cosine, ignore_self):
    """Dense brute force: per query, same-example points by (distance, index), first k."""
    rows, cols = [], []
    for i in range(y.size(0)):
        candidates_i = (batch_x == batch_y[i]).nonzero().view(-1)
        if ignore_self:
            candidates_i = candidates_i[candidates_i != i]
        d = distances(x[candidates_i], y[i], cosine)
        order = torch.sort(d, stable=True).indices[:k]  # stable: ties by smaller index
        rows += [i] * order.numel()
        cols += candidates_i[order].tolist()
    return torch.tensor([rows, cols], dtype=torch.long).view(2, -1)


def reference_graph(x, k, batch, loop, flow, cosine=False):
    edges = reference_knn(x, x, k, batch, batch, cosine, not loop)
    return edges.flip(0) if flow == "source_to_target" else edges


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("loop, flow", [(False, "source_to_target"), (True, "target_to_source")])
@pytest.mark.parametrize("k", [1, 6, 40])
def test_knn_graph_matches_brute_force(method, dtype, loop, flow, k, sorted_batch):
    gen = torch.Generator().manual_seed(k)
    batch = sorted_batch([60, 0, 1, 90, 25])  # an empty example, a one-node one, one smaller than k
    x = torch.rand(batch.numel(), 3, generator=gen, dtype=dtype)
    out = knn_graph(x, k, batch, loop=loop, flow=flow)
    assert out.dtype == torch.long
    assert torch.equal(out, reference_graph(x, k, batch, loop, flow))
    # Every target has min(k, reachable) incoming edges.
    target = out[1] if flow == "source_to_target" else out[0]
    reachable = torch.tensor([60, 1, 90, 25]) - (0 if loop else 1)
    expected_degree = reachable.clamp(max=k).repeat_interleave(torch.tensor([60, 1, 90, 25]))
    assert torch.equal(torch.bincount(target, minlength=176), expected_degree)


@pytest.mark.parametrize("dim", [1, 2, 3, 6])
def test_knn_bipartite_matches_brute_force(method, dim, sorted_batch):
    gen = torch.Generator().manual_seed(dim)
    batch_x, batch_y = sorted_batch([40, 70, 0]), sorted_batch([30, 0, 20])
    x = torch.randn(batch_x.numel(), dim, generator=gen, dtype=torch.float64)
    y = torch.randn(batch_y.numel(), dim, generator=gen, dtype=torch.float64)
    out = knn(x, y, 5, batch_x, batch_y)
    assert torch.equal(out, reference_knn(x, y, 5, batch_x, batch_y, False, False))
    assert out.size(1) == 5 * 30  # the second example of y has no points in x


def test_cosine_matches_brute_force(sorted_batch):
    gen = torch.Generator().manual_seed(7)
    batch = sorted_batch([30, 45])
    x = torch.randn(75, 4, generator=gen)
    for loop in (False, True):
        assert torch.equal(knn_graph(x, 4, batch, loop=loop, cosine=True),
                           reference_graph(x, 4, batch, loop, "source_to_target", cosine=True))
    # The cosine neighbours of a point differ from its Euclidean ones here.
    assert not torch.equal(knn_graph(x, 4, batch, cosine=True), knn_graph(x, 4, batch))
    with pytest.raises(ValueError, match="knn_graph: 'x' has all-zero rows"):
        knn_graph(torch.cat([x, torch.zeros(1, 4)]), 3, cosine=True)


def test_hand_computed_ties_and_order():
    x = torch.tensor([[0.0], [1.0], [-1.0], [3.0]])
    # Node 0: 1 and 2 tie at distance 1 -> smaller index first; then 3.
    out = knn_graph(x, 2, flow="target_to_source")
    assert out.tolist() == [[0, 0, 1, 1, 2, 2, 3, 3], [1, 2, 0, 2, 0, 1, 1, 0]]
    y = torch.tensor([[2.0], [-0.4]])
    assert knn(x, y, 3).tolist() == [[0, 0, 0, 1, 1, 1], [1, 3, 0, 0, 2, 1]]


def test_duplicates_exclude_only_the_node_itself(method):
    x = torch.zeros(4, 2)
    out = knn_graph(x, 2, flow="target_to_source")
    assert out.tolist() == [[0, 0, 1, 1, 2, 2, 3, 3], [1, 2, 0, 2, 0, 1, 0, 1]]
    looped = knn_graph(x, 2, loop=True, flow="target_to_source")
    assert looped.tolist() == [[0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 0, 1, 0, 1, 0, 1]]


def test_empty_and_single_node():
    for n in (0, 1):
        out = knn_graph(torch.zeros(n, 3), 3)
        assert out.shape == (2, 0) and out.dtype == torch.long
    assert knn_graph(torch.zeros(1, 3), 3, loop=True).tolist() == [[0], [0]]
    assert knn(torch.zeros(0, 2), torch.zeros(3, 2), 2).shape == (2, 0)
    assert knn(torch.zeros(2, 2), torch.zeros(0, 2), 2).shape == (2, 0)


def test_unfinished_queries_are_searched_again(monkeypatch):
    """A dense cluster and far outliers: the first radius suits neither; results stay exact."""
    monkeypatch.setattr(knn_module, "BRUTE_FORCE_PAIRS", 0)
    gen = torch.Generator().manual_seed(8)
    x = torch.cat([torch.rand(300, 3, generator=gen) * 0.05,
                   torch.rand(40, 3, generator=gen) * 10, torch.full((3, 3), 20.0)])
    rounds = []
    original = knn_module._search

    def spy(source, queries, *args):
        rounds.append(queries.numel())
        return original(source, queries, *args)

    monkeypatch.setattr(knn_module, "_search", spy)
    out = knn_graph(x, 5)
    assert len(rounds) >= 2 and rounds[0] == 343 and rounds[-1] < 343
    assert torch.equal(out, reference_graph(x, 5, torch.zeros(343, dtype=torch.long), False,
                                            "source_to_target"))


@settings(max_examples=20, deadline=None)
@given(points=st.lists(st.tuples(*[st.integers(-3, 3)] * 3), min_size=1, max_size=40),
       k=st.integers(1, 8), loop=st.booleans(), split=st.integers(0, 40))
def test_property_lattice_points_with_ties(points, k, loop, split):
    x = torch.tensor(points, dtype=torch.float32) * 0.3
    batch = (torch.arange(x.size(0)) >= split).long()
    expected = reference_graph(x, k, batch, loop, "source_to_target")
    for limit in (0, 1 << 40):
        with pytest.MonkeyPatch.context() as mp:   # hypothesis reruns the body: no function-scoped fixture
            mp.setattr(knn_module, "BRUTE_FORCE_PAIRS", limit)
            assert torch.equal(knn_graph(x, k, batch, loop=loop), expected)


@pytest.mark.parametrize("call, error, match", [
    (lambda: knn_graph(torch.rand(4), 2), ValueError, "'x' must be 2-D"),
    (lambda: knn_graph(torch.rand(4, 2, 1), 2), ValueError, "'x' must be 2-D"),
    (lambda: knn_graph(torch.arange(6).view(3, 2), 2), TypeError, "'x' must have a floating"),
    (lambda: knn_graph(torch.tensor([[0.0], [float("nan")]]), 1), ValueError, "NaN or inf"),
    (lambda: knn_graph(torch.rand(3, 2), 0), ValueError, "'k' must be >= 1"),
    (lambda: knn_graph(torch.rand(3, 2), 2.0), TypeError, "'k' must be an int"),
    (lambda: knn_graph(torch.rand(3, 2), 2, torch.tensor([0, 1])), ValueError,
     "'batch' must be 1-D with one entry per point"),
    (lambda: knn_graph(torch.rand(3, 2), 2, torch.tensor([0, 1, 0])), ValueError,
     "knn_graph: 'batch' must be sorted"),
    (lambda: knn_graph(torch.rand(3, 2), 2, flow="sideways"), ValueError, "'flow' must be one of"),
    (lambda: knn_graph(torch.rand(3, 2), 2, cosine=None), TypeError, "'cosine' must be a bool"),
    (lambda: knn(torch.rand(3, 2), torch.rand(3, 2).half(), 2), TypeError, "same dtype"),
    (lambda: knn(torch.rand(3, 2), torch.rand(3, 3), 2), ValueError, "same number of columns"),
    (lambda: knn(torch.rand(3, 2), torch.rand(2, 2), 2, torch.tensor([0, 0, 1]),
                 torch.tensor([0, 0, 0])), ValueError, "knn: 'batch_y' must be 1-D"),
])
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(method, sorted_batch):
    x = torch.rand(500, 3, generator=torch.Generator().manual_seed(3))
    batch = sorted_batch([200, 300])
    expected = knn_graph(x, 7, batch)
    assert torch.equal(knn_graph(x.cuda(), 7, batch.cuda()).cpu(), expected)


def test_compiled_backend_results_are_canonicalised(monkeypatch, sorted_batch):
    """A backend with its own tie order gives identical output, or is overruled on ties."""
    gen = torch.Generator().manual_seed(9)
    calls = []

    def shuffled_backend(x_, y_, k_, batch_x, batch_y, cosine):
        calls.append(k_)
        edges = reference_knn(x_, y_, k_, batch_x, batch_y, cosine, False)
        return edges[:, torch.randperm(edges.size(1), generator=gen)]

    monkeypatch.setattr(accelerated, "backends", lambda: (None, shuffled_backend))
    x = torch.rand(120, 3, generator=gen)
    batch = sorted_batch([50, 70])
    assert torch.equal(knn_graph(x, 4, batch), reference_graph(x, 4, batch, False, "source_to_target"))
    assert calls == [6]
    # Lattice points: ties at the k-th distance make the backend's choice ambiguous -> recomputed.
    lattice = torch.cartesian_prod(*[torch.arange(4.0)] * 2)
    assert torch.equal(knn_graph(lattice, 3, loop=True),
                       reference_graph(lattice, 3, torch.zeros(16, dtype=torch.long), True,
                                       "source_to_target"))


@pytest.mark.skipif(not (WITH_PYG_LIB or WITH_TORCH_CLUSTER), reason="needs pyg-lib or torch-cluster")
def test_matches_pyg_knn_graph(sorted_batch, monkeypatch):
    from torch_geometric.nn import knn_graph as pyg_knn_graph

    monkeypatch.setattr(accelerated, "ENABLED", False)
    x = torch.rand(400, 3, generator=torch.Generator().manual_seed(5))  # no ties
    batch = sorted_batch([150, 250])
    ours = knn_graph(x, 6, batch)
    theirs = pyg_knn_graph(x, 6, batch)
    key = lambda e: sorted(zip(e[0].tolist(), e[1].tolist()))
    assert key(ours) == key(theirs)
