"""RipsComplex transform: the circle has one H_1 class at each vertex in its local homology."""
import math

import pytest
import torch
from torch_geometric.data import Data

from topoequi.transforms import AddLocalHomologySheaf, RipsComplex


def test_rips_of_a_sampled_circle_is_a_cycle_graph():
    n = 12
    ang = torch.arange(n) * 2 * math.pi / n
    pos = torch.stack([ang.cos(), ang.sin()], 1)
    step = 2 * math.sin(math.pi / n)
    cx = RipsComplex(radius=1.2 * step)(Data(pos=pos, y=torch.tensor([1])))
    assert cx.edges.size(0) == n and cx.triangles.size(0) == 0
    assert torch.allclose(cx.edge_weight, torch.full((n,), step), atol=1e-6)
    assert torch.equal(cx.pos, pos) and torch.equal(cx.y, torch.tensor([1]))
    cx = AddLocalHomologySheaf(stalk_width=1, weight="edge_weight")(cx)
    assert cx.vertex_dims[:, 1].tolist() == [1] * n           # a 1-manifold: H_1(X, X - v) = R
    # at a larger scale the neighbours of neighbours join: triangles appear, the link is a path
    cx = AddLocalHomologySheaf(stalk_width=1)(RipsComplex(radius=1.05 * 2 * math.sin(2 * math.pi / n))(Data(pos=pos)))
    assert cx.triangles.size(0) == n
    assert cx.vertex_dims.tolist() == [[0, 0, 0]] * n           # link of v = path on 4 points


def test_rips_bad_input():
    with pytest.raises(ValueError, match="RipsComplex: radius"):
        RipsComplex(radius=-1.0)
    with pytest.raises(ValueError, match="RipsComplex: data has no pos"):
        RipsComplex(radius=1.0)(Data(x=torch.ones(3, 1)))
