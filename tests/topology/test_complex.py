"""Simplicial complexes: builders, validation, PyG batching."""
import networkx as nx
import pytest
import torch
from torch_geometric.loader import DataLoader

from topoequi.topology import (
    SimplicialComplex,
    clean_edges,
    clique_complex,
    complex_from_simplices,
    rips_complex,
)


def test_clique_complex_matches_networkx_triangles():
    g = nx.gnp_random_graph(40, 0.2, seed=1)
    ei = torch.tensor(list(g.edges())).T
    cx = clique_complex(ei, 40)
    tri = {tuple(sorted(c)) for c in nx.enumerate_all_cliques(g) if len(c) == 3}
    assert {tuple(t) for t in cx.triangles.tolist()} == tri
    assert cx.edges.size(0) == g.number_of_edges()
    assert cx.edge_index.size(1) == 2 * g.number_of_edges()
    assert clique_complex(ei, 40, max_dim=1).triangles.shape == (0, 3)


def test_triangles_with_hubs_are_listed_once_in_order():
    # a hub joined to everything (every edge to it closes triangles) plus a K_6 and random edges
    g = nx.gnp_random_graph(60, 0.08, seed=2)
    g.add_edges_from((7, v) for v in range(60) if v != 7)
    g.add_edges_from((a, b) for a in range(40, 46) for b in range(a + 1, 46))
    ei = torch.tensor(list(g.edges())).T.flip(0)                 # reversed pairs: u > v
    cx = clique_complex(ei, 60)
    tri = sorted(tuple(sorted(c)) for c in nx.enumerate_all_cliques(g) if len(c) == 3)
    assert cx.triangles.tolist() == [list(t) for t in tri]
    k6 = torch.tensor([(a, b) for a in range(6) for b in range(a + 1, 6)]).T
    assert clique_complex(k6, 6).triangles.size(0) == 20


def test_clean_edges_drops_loops_duplicates_and_directions():
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 1, 3, 3, 3]])
    assert clean_edges(ei, 4).tolist() == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="self-loops"):
        clean_edges(ei, 4, self_loops="error")
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        clean_edges(ei, 3)
    with pytest.raises(ValueError, match="shape"):
        clean_edges(torch.zeros(3, 2, dtype=torch.long), 4)
    with pytest.raises(TypeError, match="integer"):
        clean_edges(torch.zeros(2, 2), 4)
    with pytest.raises(ValueError, match="num_nodes"):
        clean_edges(ei, -1)
    assert clean_edges(torch.zeros(2, 0, dtype=torch.long), 0).shape == (0, 2)


def test_empty_graph_and_isolated_vertices():
    cx = clique_complex(torch.zeros(2, 0, dtype=torch.long), 5)
    assert cx.num_nodes == 5 and cx.edges.shape == (0, 2) and cx.triangles.shape == (0, 3)


def test_rips_complex_of_a_square():
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    cx = rips_complex(pos, radius=1.1)
    assert cx.edges.tolist() == [[0, 1], [0, 3], [1, 2], [2, 3]]
    assert cx.triangles.shape == (0, 3)
    assert torch.allclose(cx.edge_weight, torch.ones(4))
    full = rips_complex(pos, radius=1.5)
    assert full.triangles.size(0) == 4
    with pytest.raises(ValueError, match="radius"):
        rips_complex(pos, radius=0.0)
    with pytest.raises(ValueError, match="NaN"):
        rips_complex(torch.tensor([[float("nan"), 0.0]]), radius=1.0)


def test_complex_from_simplices_closes_under_faces():
    cx = complex_from_simplices([(2, 1, 0)], num_nodes=4)
    assert cx.edges.tolist() == [[0, 1], [0, 2], [1, 2]]
    assert cx.num_nodes == 4
    with pytest.raises(ValueError, match="dimension <= 2"):
        complex_from_simplices([(0, 1, 2, 3)])


def test_batching_shifts_vertex_ids():
    a = complex_from_simplices([(0, 1, 2), (2, 3)])
    b = complex_from_simplices([(0, 1), (1, 2, 3), (0, 4)])
    batch = next(iter(DataLoader([a, b], batch_size=2)))
    assert isinstance(batch, SimplicialComplex) and batch.num_graphs == 2
    assert batch.num_nodes == 9
    assert torch.equal(batch.edges, torch.cat([a.edges, b.edges + 4]))
    assert torch.equal(batch.triangles, torch.cat([a.triangles, b.triangles + 4]))
    assert torch.equal(batch.edge_index, torch.cat([a.edge_index, b.edge_index + 4], 1))
    # the batch is the disjoint union: its triangles are those of the union graph's clique complex
    union = clique_complex(batch.edge_index, 9)
    assert torch.equal(union.triangles, batch.triangles)
    assert batch.batch.tolist() == [0] * 4 + [1] * 5
