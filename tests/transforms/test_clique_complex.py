"""CliqueComplex: the complex of a wheel and of a graph, the stalks they get, bad input."""
import pytest
import torch
from torch_geometric.data import Data

from topoequi.topology import SimplicialComplex
from topoequi.transforms import AddLocalHomologySheaf, CliqueComplex


def test_clique_complex_of_a_wheel_is_a_disk(wheel):
    data = Data(edge_index=wheel(6), x=torch.randn(7, 3), y=torch.arange(7), edge_attr=torch.randn(12, 2))
    cx = CliqueComplex()(data)
    assert isinstance(cx, SimplicialComplex)
    assert cx.triangles.size(0) == 6 and cx.edges.size(0) == 12
    assert torch.equal(cx.x, data.x) and torch.equal(cx.y, data.y) and "edge_attr" not in cx
    cx = AddLocalHomologySheaf(stalk_width=2)(cx)
    assert cx.vertex_dims.tolist() == [[0, 0, 1]] + [[0, 0, 0]] * 6
    # spokes are interior edges (two triangles), the rim is the boundary (one triangle)
    spoke = (cx.edges[:, 0] == 0)
    assert cx.edge_dims[spoke].tolist() == [[0, 0, 1]] * 6
    assert cx.edge_dims[~spoke].tolist() == [[0, 0, 0]] * 6
    assert cx.vertex_mask.sum().item() == 1 and cx.edge_mask.sum().item() == 6
    # the centre class is (1, ..., 1) / sqrt(6) on its triangles (up to signs), a spoke class is
    # (1, -1) / sqrt(2) on its two: |F_{0<=spoke}| = 2 / sqrt(12)
    f = cx.restriction[spoke, 0, 0, 0]
    assert torch.allclose(f.abs(), torch.full((6,), (2 / 6) ** 0.5))


def test_graph_complex_stalks_and_bad_input():
    ei = torch.tensor([[0, 0, 0, 1, 1, 4], [1, 2, 3, 0, 1, 4]])       # reversed edge, self-loops
    cx = AddLocalHomologySheaf(stalk_width=3)(CliqueComplex(max_dim=1)(Data(edge_index=ei, num_nodes=6)))
    assert cx.vertex_dims[:, :2].tolist() == [[0, 2], [0, 0], [0, 0], [0, 0], [1, 0], [1, 0]]
    assert cx.edge_dims.tolist() == [[0, 1, 0]] * 3
    with pytest.raises(ValueError, match="CliqueComplex: max_dim"):
        CliqueComplex(max_dim=3)
    with pytest.raises(ValueError, match="outside"):
        CliqueComplex()(Data(edge_index=torch.tensor([[0], [7]]), num_nodes=3))
