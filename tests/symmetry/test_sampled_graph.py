import math

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from topoequi.symmetry import group_from_name, sampling_matrix
from topoequi.symmetry.frames import FourierFrame
from topoequi.symmetry.sampled_graph import (
    GroupSampledGraph,
    design_grid,
    group_distance,
    knn_group_edges,
)

TOL = 1e-12


def test_distance_is_bi_invariant_and_chordal():
    group = group_from_name("O(3)")
    gen = torch.Generator().manual_seed(0)
    a, b, h = group.sample(5, gen), group.sample(5, gen), group.sample(5, gen)
    d = group_distance(a, b)
    assert (group_distance(h @ a, h @ b) - d).abs().max() < TOL
    assert (group_distance(a @ h, b @ h) - d).abs().max() < TOL
    so2 = group_from_name("SO(2)")
    r = so2.from_angle(torch.tensor([0.0, 0.5], dtype=torch.float64))
    assert abs(group_distance(r[0], r[1]).item() - 2 * math.sqrt(2) * math.sin(0.25)) < TOL
    assert abs(group_distance(-torch.eye(3), torch.eye(3)).item() - math.sqrt(12)) < 1e-6


def test_knn_edges_on_a_circle_join_the_two_neighbours():
    edges = knn_group_edges(group_from_name("SO(2)").grid(8), k=2)
    assert edges.shape == (2, 16)
    for i in range(8):
        assert sorted(edges[0, edges[1] == i].tolist()) == sorted([(i - 1) % 8, (i + 1) % 8])


def test_knn_edges_match_brute_force():
    group = group_from_name("SO(3)")
    g = group.sample(30, generator=torch.Generator().manual_seed(1))
    edges = knn_group_edges(g, k=4)
    for i in range(30):
        d = [((g[i] - g[j]).norm().item(), j) for j in range(30) if j != i]
        assert sorted(edges[0, edges[1] == i].tolist()) == sorted(j for _, j in sorted(d)[:4])
    with pytest.raises(ValueError, match="k must be an int in \\[1, 29\\]"):
        knn_group_edges(g, 30)


def test_adaptive_graph_samples_move_with_the_data():
    # f(U(f) g_n) = (h . f)(U(h . f) g_n): values, edges and relative elements do not depend on h
    group = group_from_name("O(3)")
    rep = group.regular_rep(1)
    base = GroupSampledGraph.uniform(group, 40, k=5)
    gen = torch.Generator().manual_seed(2)
    f = torch.randn(3, rep.dim, dtype=torch.float64, generator=gen)
    h = group.sample(1, gen) @ group.reflection()
    hf = f @ rep.matrices(h)[0].T
    frame = FourierFrame(rep)
    u, hu = frame(f).elements[:, 0], frame(hf).elements[:, 1]  # a reflection swaps the two frames
    graph, moved = base.translate(u), base.translate(hu)
    assert torch.equal(moved.edge_index, base.edge_index)
    assert (moved.elements - h @ graph.elements).abs().max() < TOL
    assert (moved.relative_elements() - graph.relative_elements()).abs().max() < TOL
    assert (graph.relative_elements()[0] - base.relative_elements()).abs().max() < TOL
    x, hx = graph.sample(rep, f), moved.sample(rep, hf)
    assert (hx - x).abs().max() < TOL
    assert (x[1] - sampling_matrix(rep, u[1] @ base.elements) @ f[1]).abs().max() < TOL
    # one step of a sampled group convolution: messages weighted by a function of g_i^{-1} g_j
    src, dst = base.edge_index

    def conv(graph, x):
        weight = graph.relative_elements().flatten(-2).sum(-1).cos()
        return scatter(x[:, src] * weight, dst, dim=1, dim_size=graph.num_nodes, reduce="sum")

    assert (conv(moved, hx) - conv(graph, x)).abs().max() < TOL
    data = Data(**graph.to_dict())  # the disjoint union of the three translated copies
    assert data.num_nodes == 120 and data.edge_index.shape == (2, 3 * 200)
    assert torch.equal(data.batch, torch.arange(3).repeat_interleave(40))
    assert torch.equal(data.edge_index[:, 200:400], base.edge_index + 40)
    assert torch.equal(data.edge_attr[:200], graph.relative_elements()[0].flatten(-2))
    assert torch.equal(data.edge_attr[400:], graph.relative_elements()[2].flatten(-2))
    assert torch.equal(data.elements[80:], graph.elements[2])


def test_random_and_uniform_graphs():
    so2 = group_from_name("SO(2)")
    uniform = GroupSampledGraph.uniform(so2, 6, k=2)
    assert torch.equal(uniform.elements, so2.grid(6))
    # neighbours on a uniform circle are one step apart: every relative element is R(+-60 degrees)
    assert (uniform.relative_elements()[:, 0, 0] - 0.5).abs().max() < TOL
    rnd = GroupSampledGraph.random(group_from_name("Oh"), 10, k=3, generator=torch.Generator().manual_seed(0))
    assert bool(group_from_name("Oh").contains(rnd.elements).all()) and rnd.edge_index.shape == (2, 30)
    data = Data(**uniform.to_dict())
    assert data.num_nodes == 6 and data.edge_attr.shape == (12, 4)


@pytest.mark.parametrize("name", ["SO(2)", "O(2)", "SO(3)", "O(3)", "C6", "Oh"])
def test_design_grid_is_minimal_and_well_conditioned(name):
    group = group_from_name(name)
    rep = group.regular_rep(None if group.is_finite else 1)
    g = design_grid(rep)
    assert g.shape[0] == rep.dim and bool(group.contains(g).all())
    s = torch.linalg.svdvals(sampling_matrix(rep, g))
    bound = 1.5 if name in ("SO(3)", "O(3)") else 1 + 1e-9  # uniform planar grids are exact quadratures
    assert s[0] / s[-1] < bound
    assert (torch.linalg.svdvals(sampling_matrix(rep, group.grid(rep.dim))) - 1).abs().max() > 0.5 \
        or name not in ("SO(3)", "O(3)")  # the plain spiral of the same size is far from it


def test_design_grid_bad_input():
    rep = group_from_name("SO(3)").regular_rep(1)
    with pytest.raises(ValueError, match="at least 10"):
        design_grid(rep, 9)
    with pytest.raises(ValueError, match="n must be even"):
        design_grid(group_from_name("O(3)").regular_rep(1), 21)
