"""Rips and clique (flag) persistence: values against gudhi, exact small cases, batches, finite differences."""
import gudhi
import numpy as np
import pytest
import torch

from topoequi.topology import clique_diagram, cubical_diagram, rips_diagram
from topoequi.typing import WITH_GIOTTO_PH

ENGINES = ["gudhi", pytest.param("giotto-ph", marks=pytest.mark.skipif(not WITH_GIOTTO_PH,
                                                                         reason="giotto-ph not installed"))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("threshold", [float("inf"), 0.8])
def test_rips_matches_gudhi_and_batches(engine, threshold, finite_intervals, sorted_points):
    gen = torch.Generator().manual_seed(0)
    clouds = [torch.randn(n, 2, generator=gen, dtype=torch.float64) for n in (40, 25)]
    pos, batch = torch.cat(clouds), torch.tensor([0] * 40 + [1] * 25)
    diagram = rips_diagram(pos, batch, max_dim=1, max_edge_length=threshold, engine=engine)
    assert diagram.num_graphs == 2
    for g, cloud in enumerate(clouds):
        tree = gudhi.RipsComplex(points=cloud.numpy(), max_edge_length=threshold).create_simplex_tree(max_dimension=2)
        tree.compute_persistence()
        single = diagram.graph(g)
        for k in (0, 1):
            ref = finite_intervals(tree, k)
            assert sorted_points(single.points[k]).shape == ref.shape
            np.testing.assert_allclose(sorted_points(single.points[k]), ref, atol=1e-12)
            essential = tree.persistence_intervals_in_dimension(k).reshape(-1, 2)
            essential = np.sort(essential[np.isinf(essential[:, 1]), 0])
            np.testing.assert_allclose(np.sort(single.essential[k].numpy()), essential, atol=1e-12)
    if threshold == float("inf"):
        assert diagram.graph(0).essential[0].tolist() == [0.0]          # one component that never dies


def test_rips_gradient_matches_finite_differences():
    gen = torch.Generator().manual_seed(1)
    angle = torch.rand(16, generator=gen, dtype=torch.float64) * 6.283
    noise = 0.2 * torch.randn(16, 2, generator=gen, dtype=torch.float64)
    pos = (torch.stack([angle.cos(), angle.sin()], 1) + noise).requires_grad_(True)      # a noisy circle

    def points(p):
        d = rips_diagram(p, max_dim=1, engine="gudhi")
        return torch.cat([d.points[0].reshape(-1), d.points[1].reshape(-1)])

    assert points(pos).numel() > 30                                   # H1 points are present
    assert torch.autograd.gradcheck(points, (pos,), eps=1e-6, atol=1e-6)


def test_rips_square_exact():
    """Unit square: four unit edges join it (H0 deaths 1), the loop is born at 1 and dies at sqrt(2)."""
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    d = rips_diagram(pos, max_dim=1, engine="gudhi")
    assert d.points[0][:, 1].tolist() == [1.0, 1.0, 1.0]
    assert torch.allclose(d.points[1], torch.tensor([[1.0, 2 ** 0.5]], dtype=torch.float64))


def test_lower_star_matches_gudhi_and_gradcheck(finite_intervals, sorted_points, random_graph):
    edge_index = random_graph(30, 0.2, seed=2)
    x = torch.rand(30, generator=torch.Generator().manual_seed(3), dtype=torch.float64, requires_grad=True)
    d = clique_diagram(edge_index, 30, node_values=x, max_dim=1)
    tree = gudhi.SimplexTree()
    for v in range(30):
        tree.insert([v], float(x[v].detach()))
    for u, v in edge_index.t().tolist():
        tree.insert([u, v], float(max(x[u], x[v]).detach()))
    tree.expansion(2)
    tree.compute_persistence()
    for k in (0, 1):
        np.testing.assert_allclose(sorted_points(d.points[k]), finite_intervals(tree, k), atol=1e-14)

    def points(values):
        out = clique_diagram(edge_index, 30, node_values=values, max_dim=1)
        return torch.cat([out.points[0].reshape(-1), out.points[1].reshape(-1), out.essential[0]])

    assert torch.autograd.gradcheck(points, (x,), eps=1e-6, atol=1e-6)


def test_edge_filtration_cycle_exact_and_gradcheck():
    """A 4-cycle without diagonals: the loop is born with its last edge and never dies."""
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    w = torch.tensor([0.1, 0.4, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
    d = clique_diagram(edge_index, 4, edge_values=w, max_dim=1)
    assert d.points[1].numel() == 0 and d.essential[1].tolist() == [0.4]
    # vertices enter with their first edge: {0, 1} at 0.1, {2, 3} at 0.2, the two merge at 0.3
    assert d.points[0].tolist() == [[0.2, 0.3]] and d.essential[0].tolist() == [0.1]
    d.essential[1].sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 0.0, 0.0]                    # all of it to the creating edge

    triangle = torch.tensor([[0, 1, 0, 2], [1, 2, 2, 3]])             # a triangle 0-1-2 and a tail 2-3
    values = torch.rand(4, generator=torch.Generator().manual_seed(4), dtype=torch.float64, requires_grad=True)
    nodes = torch.zeros(4, dtype=torch.float64)

    def points(v):
        out = clique_diagram(triangle, 4, node_values=nodes, edge_values=v, max_dim=1)
        return torch.cat([out.points[0].reshape(-1), out.points[1].reshape(-1)])

    assert torch.autograd.gradcheck(points, (values,), eps=1e-6, atol=1e-6)


def test_batched_clique_equals_separate_graphs(sorted_points, random_graph):
    a, b = random_graph(12, 0.4, seed=5), random_graph(9, 0.5, seed=6)
    x = torch.rand(21, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    batch = torch.tensor([0] * 12 + [1] * 9)
    d = clique_diagram(torch.cat([a, b + 12], 1), 21, node_values=x, batch=batch)
    for g, (ei, xs) in enumerate([(a, x[:12]), (b, x[12:])]):
        single = clique_diagram(ei, xs.numel(), node_values=xs)
        for k in (0, 1):
            np.testing.assert_array_equal(sorted_points(d.graph(g).points[k]), sorted_points(single.points[k]))


def test_tie_sends_the_whole_gradient_to_one_simplex():
    """Equal pixels: gudhi picks one creator; the gradient of the point is one, on one pixel."""
    image = torch.ones(5, 5, dtype=torch.float64)
    image[1:4, 1:4] = 2.0
    image[2, 2] = 0.5                                                  # a basin inside a ring of equal walls (2)
    image.requires_grad_(True)
    d = cubical_diagram(image, max_dim=0)
    assert d.points[0].tolist() == [[1.0, 2.0]] and d.essential[0].tolist() == [0.5]   # 8 tied walls
    d.points[0][0, 1].backward()
    assert image.grad.sum().item() == 1.0 and int((image.grad != 0).sum()) == 1
