"""Differentiable persistence diagrams: values against gudhi, exact small cases, finite differences, errors."""
import gudhi
import numpy as np
import pytest
import torch
from torch_geometric.utils import erdos_renyi_graph

from topoequi.topology import clique_diagram, cubical_diagram, rips_diagram
from topoequi.typing import WITH_GIOTTO_PH

ENGINES = ["gudhi", pytest.param("giotto-ph", marks=pytest.mark.skipif(not WITH_GIOTTO_PH,
                                                                         reason="giotto-ph not installed"))]


def finite_intervals(tree_or_complex, dim: int) -> np.ndarray:
    ref = tree_or_complex.persistence_intervals_in_dimension(dim).reshape(-1, 2)
    ref = ref[np.isfinite(ref[:, 1])]
    return ref[np.lexsort(ref.T[::-1])]


def sorted_points(points: torch.Tensor) -> np.ndarray:
    p = points.detach().numpy()
    return p[np.lexsort(p.T[::-1])]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("threshold", [float("inf"), 0.8])
def test_rips_matches_gudhi_and_batches(engine, threshold):
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


def test_lower_star_matches_gudhi_and_gradcheck():
    edge_index = _random_graph(30, 0.2, seed=2)
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


def _random_graph(n: int, p: float, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return erdos_renyi_graph(n, p)


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


def test_batched_clique_equals_separate_graphs():
    a, b = _random_graph(12, 0.4, seed=5), _random_graph(9, 0.5, seed=6)
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


def test_cubical_matches_gudhi_exact_ring_and_gradcheck():
    images = torch.rand(2, 7, 6, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    d = cubical_diagram(images)
    for g in range(2):
        cc = gudhi.CubicalComplex(top_dimensional_cells=images[g].numpy())
        cc.compute_persistence()
        for k in (0, 1):
            np.testing.assert_array_equal(sorted_points(d.graph(g).points[k]), finite_intervals(cc, k))
    ring = torch.zeros(5, 5, dtype=torch.float64)
    ring[1:4, 1:4] = -1.0
    ring[2, 2] = -0.25                                                 # ink ring (-1) around a paler hole
    d = cubical_diagram(ring)
    assert d.points[1].tolist() == [[-1.0, -0.25]] and d.essential[0].tolist() == [-1.0]
    images.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda im: torch.cat([p.reshape(-1) for p in cubical_diagram(im).points]),
                                    (images,), eps=1e-6, atol=1e-6)


def test_bad_input_raises_clear_errors():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="node_values must have shape \\[3\\]"):
        clique_diagram(ei, 3, node_values=torch.zeros(4))
    with pytest.raises(ValueError, match="node_values holds NaN"):
        clique_diagram(ei, 3, node_values=torch.tensor([0.0, float("nan"), 1.0]))
    with pytest.raises(ValueError, match="edge_values must have shape \\[2\\]"):
        clique_diagram(ei, 3, edge_values=torch.zeros(3))
    with pytest.raises(ValueError, match="not monotone"):
        clique_diagram(ei, 3, node_values=torch.tensor([0.0, 2.0, 0.0]), edge_values=torch.tensor([1.0, 3.0]))
    with pytest.raises(ValueError, match="empty"):
        clique_diagram(torch.zeros(2, 0, dtype=torch.long), 0, node_values=torch.zeros(0))
    with pytest.raises(ValueError, match="give node_values"):
        clique_diagram(ei, 3)
    with pytest.raises(ValueError, match="needs at least 3"):
        rips_diagram(torch.randn(2, 2), max_dim=1)
    with pytest.raises(ValueError, match="pos holds NaN"):
        rips_diagram(torch.tensor([[0.0, 1.0], [float("nan"), 0.0], [1.0, 1.0]]), max_dim=0)
    with pytest.raises(ValueError, match="engine must be one of"):
        rips_diagram(torch.randn(5, 2), engine="ripser")
    with pytest.raises(ValueError, match="max_dim must be an int in \\[0, 1\\]"):
        cubical_diagram(torch.rand(4, 4), max_dim=2)
    with pytest.raises(ValueError, match="images holds NaN"):
        cubical_diagram(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="images is empty"):
        cubical_diagram(torch.zeros(0, 3, 3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_inputs_give_the_cpu_diagrams_and_gradients():
    pos = torch.randn(30, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    images = torch.rand(2, 6, 6, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    edge_index, x = _random_graph(15, 0.3, seed=11), torch.rand(15, dtype=torch.float64)
    cases = [(lambda p: rips_diagram(p), pos), (lambda im: cubical_diagram(im), images),
             (lambda v: clique_diagram(edge_index.to(v.device), 15, node_values=v), x)]
    for fn, value in cases:
        grads = []
        for device in ("cpu", "cuda"):
            leaf = value.to(device).requires_grad_(True)
            diagram = fn(leaf)
            assert all(p.device.type == device for p in diagram.points + diagram.batch)
            sum(p.sum() for p in diagram.points).backward()
            grads.append(leaf.grad.cpu())
        torch.testing.assert_close(grads[0], grads[1])
