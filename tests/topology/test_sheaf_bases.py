"""Combinatorics of the local homology sheaf: checked input, incidences, link components and stalk dimensions
of small complexes whose local homology is known."""
import numpy as np
import pytest
import torch

from topoequi.topology.sheaf_bases import checked_input, incidences, link_components, stalks


def build(edges, triangles, n, weights=None):
    ed, tr, w = checked_input(torch.tensor(edges).view(-1, 2), torch.tensor(triangles).view(-1, 3), n, weights)
    inc = incidences(ed, tr, n, w)
    links = link_components(inc)
    return inc, links, stalks(inc, links, None)


def test_star_graph_incidences_and_stalks():
    inc, links, st = build([[0, 1], [0, 2], [0, 3]], [], 5, [0.3, 0.1, 0.2])
    assert inc.half_vertex.tolist() == [0, 0, 0, 1, 2, 3] and inc.half_sign.tolist() == [1, 1, 1, -1, -1, -1]
    assert inc.degree.tolist() == [3, 1, 1, 1, 0]
    assert inc.edge_rank.tolist() == [2, 0, 1]                                # by weight
    assert links.count == 6 and links.per_vertex.tolist() == [3, 1, 1, 1, 0]
    assert links.sorted_birth_edge[:3].tolist() == [1, 2, 0]                  # oldest edge first at vertex 0
    assert st.vertex_dims.tolist() == [[0, 2, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0]]
    assert st.edge_dims.tolist() == [[0, 1, 0]] * 3
    assert st.d == 2 and st.restriction.shape == (3, 2, 2, 2)


def test_filled_triangle_and_the_boundary_of_a_tetrahedron():
    _, links, st = build([[0, 1], [0, 2], [1, 2]], [[0, 1, 2]], 3)
    assert links.per_vertex.tolist() == [1, 1, 1]                             # the link of a vertex is an arc
    assert st.vertex_dims.tolist() == [[0, 0, 0]] * 3 and st.edge_dims[:, 1:].tolist() == [[0, 0]] * 3
    edges = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    faces = [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]
    _, _, st = build(edges, faces, 4)
    assert st.vertex_dims.tolist() == [[0, 0, 1]] * 4                         # a sphere: H2 at every vertex
    assert st.edge_dims.tolist() == [[0, 0, 1]] * 6


@pytest.mark.parametrize("edges, weights, match", [
    ([[1, 0]], None, "edges must hold sorted vertex pairs u < v"),
    ([[0, 5]], None, "edges must hold sorted vertex pairs u < v with ids in \\[0, num_nodes\\)"),
    ([[0, 2], [0, 1]], None, "edges must be unique and lexicographically sorted"),
    ([[0, 1]], [1.0, 2.0], "edge_weight must have shape \\[1\\], got \\[2\\]"),
    ([[0, 1]], [float("inf")], "edge_weight holds NaN or infinite values"),
])
def test_checked_input_rejects(edges, weights, match):
    with pytest.raises(ValueError, match=match):
        checked_input(torch.tensor(edges), torch.zeros(0, 3, dtype=torch.long), 3, weights)


def test_stalk_width_must_be_positive():
    inc, links, _ = build([[0, 1]], [], 2)
    assert stalks(inc, links, 3).restriction.shape == (1, 2, 3, 3)
    with pytest.raises(ValueError, match="stalk_width must be a positive int, got 0"):
        stalks(inc, links, 0)
    assert np.array_equal(checked_input(np.array([[0, 1]]), np.zeros((0, 3), dtype=np.int64), 2, None)[2], [0.0])
