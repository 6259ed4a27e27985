"""Exact local homology ranks on hand-built complexes (reference implementation)."""
import numpy as np
import pytest

from topoequi.topology import (
    exact_rank,
    harmonic_basis,
    local_betti,
    relative_boundaries,
    restriction_map,
)


def betti(simplices, s, dims=3):
    b = local_betti(simplices, s)
    return b + [0] * (dims - len(b))


@pytest.mark.parametrize("deg", [1, 2, 3, 7])
def test_graph_star_vertex_has_h1_deg_minus_one(deg):
    star = [(0, i) for i in range(1, deg + 1)]
    assert betti(star, (0,), 2) == [0, deg - 1]
    assert betti(star, (1,), 2) == [0, 0]           # a leaf: link is one point
    assert betti(star, (0, 1), 2) == [0, 1]          # an edge of a graph


def test_isolated_vertex_has_h0():
    assert betti([(0,), (1, 2)], (0,), 2) == [1, 0]


def test_closed_surfaces_every_vertex_and_edge_has_h2_one(surfaces):
    for surface, n in ((surfaces["octahedron"], 6), (surfaces["torus"], 7), (surfaces["rp2"], 6)):
        for v in range(n):
            assert betti(surface, (v,)) == [0, 0, 1]
        for e in {tuple(sorted(p)) for t in surface for p in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2]))}:
            assert betti(surface, e) == [0, 0, 1]
        for t in surface:
            assert betti(surface, t) == [0, 0, 1]


def test_disk_interior_vs_boundary(surfaces):
    assert betti(surfaces["disk"], (0,)) == [0, 0, 1]
    for v in range(1, 7):
        assert betti(surfaces["disk"], (v,)) == [0, 0, 0]
    assert betti(surfaces["disk"], (0, 1)) == [0, 0, 1]      # interior edge, two triangles
    assert betti(surfaces["disk"], (1, 2)) == [0, 0, 0]      # boundary edge, one triangle


def test_non_manifold_points(surfaces):
    assert betti(surfaces["bowtie"], (0,)) == [0, 1, 0]             # link = two disjoint edges
    assert betti(surfaces["pinched"], (0,)) == [0, 1, 2]            # link = two disjoint 4-cycles
    assert betti(surfaces["book"], (0, 1)) == [0, 0, 2]             # three pages: H_2 = 3 - 1
    assert betti(surfaces["book"], (0,)) == [0, 0, 0]               # link of 0 = a cone (star on 1)
    # cone point over a graph with a cycle and a dangling edge
    cone = [(0, 1, 2), (0, 2, 3), (0, 1, 3), (0, 4)]
    assert betti(cone, (0,)) == [0, 1, 1]


def test_relative_boundary_is_a_chain_complex_and_rank_is_exact(surfaces):
    star, mats = relative_boundaries(surfaces["torus"], (0,))
    assert [len(x) for x in star] == [1, 6, 6]
    assert not (mats[1] @ mats[2]).any()
    assert exact_rank(np.array([[2, 4], [1, 2]])) == 1
    assert exact_rank(np.array([[3, 1, 0], [0, 0, 5], [3, 1, 5]])) == 2
    assert exact_rank(np.zeros((3, 0), dtype=int)) == 0


def test_harmonic_basis_is_orthonormal_cycles(surfaces):
    star, mats = relative_boundaries(surfaces["pinched"], (0,))
    _, bases = harmonic_basis(surfaces["pinched"], (0,))
    for k in range(len(star)):
        q = bases[k]
        assert np.allclose(q.T @ q, np.eye(q.shape[1]))
        assert np.allclose(mats[k] @ q, 0)
        if k + 1 < len(mats):
            assert np.allclose(mats[k + 1].T @ q, 0)


def test_restriction_maps_compose(surfaces):
    for cx in map(surfaces.get, ("octahedron", "pinched", "book", "disk", "torus")):
        for t in cx:
            for v in t:
                for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])):
                    if v not in e:
                        continue
                    f_ve = restriction_map(cx, (v,), e)
                    f_et = restriction_map(cx, e, t)
                    f_vt = restriction_map(cx, (v,), t)
                    for k in range(3):
                        assert np.allclose(f_et[k] @ f_ve[k], f_vt[k], atol=1e-12)


def test_restriction_on_graph_is_the_edge_coordinate():
    # vertex 0 of a 3-star: H_1 = sum-zero vectors on its 3 edges; F_{0<=e} reads the e coordinate
    star = [(0, 1), (0, 2), (0, 3)]
    _, bases = harmonic_basis(star, (0,))
    q = bases[1]
    for i, e in enumerate(star):
        f = restriction_map(star, (0,), e)[1]
        _, qe = harmonic_basis(star, e)
        assert np.allclose(f, qe[1].T @ q[i:i + 1])
        assert np.isclose(np.linalg.norm(f) ** 2, 2 / 3)   # |projection of e onto sum-zero space|^2


def test_bad_input(surfaces):
    with pytest.raises(ValueError, match="not in the complex"):
        local_betti(surfaces["octahedron"], (0, 1))
    with pytest.raises(ValueError, match="not a face"):
        restriction_map(surfaces["octahedron"], (0,), (1, 2))
    with pytest.raises(ValueError, match="distinct"):
        local_betti([(0, 0, 1)], (0,))


def test_a_simplicial_complex_is_accepted_as_is():
    import torch

    from topoequi.topology import clique_complex

    octahedron = [(0, 1), (0, 2), (0, 3), (0, 4), (5, 1), (5, 2), (5, 3), (5, 4), (1, 2), (2, 3), (3, 4), (4, 1)]
    sphere = clique_complex(torch.tensor(octahedron).t(), num_nodes=7)  # vertex 6 is isolated
    assert local_betti(sphere, (0,)) == local_betti(sphere.triangles.tolist(), (0,)) == [0, 0, 1]
    assert local_betti(sphere, (6,)) == [1, 0, 0]
    with pytest.raises(TypeError, match="SimplicialComplex or a sequence of vertex tuples"):
        local_betti(torch.zeros(3), (0,))
