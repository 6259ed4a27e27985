"""CliqueComplex and AddLocalHomologySheaf transforms, batching of sheaf data."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from topoequi.topology import SimplicialComplex, local_homology_sheaf, sheaf_laplacian
from topoequi.transforms import AddLocalHomologySheaf, CliqueComplex


def wheel(n):
    """Centre 0 joined to a rim cycle 1..n: the clique complex is a disk (interior vertex 0)."""
    rim = [(i, i % n + 1) for i in range(1, n + 1)]
    spokes = [(0, i) for i in range(1, n + 1)]
    return torch.tensor(rim + spokes).T


def test_clique_complex_of_a_wheel_is_a_disk():
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
    with pytest.raises(TypeError, match="AddLocalHomologySheaf: expected a SimplicialComplex"):
        AddLocalHomologySheaf()(Data(edge_index=ei, num_nodes=6))
    with pytest.raises(ValueError, match="AddLocalHomologySheaf: weight='edge_weight'"):
        AddLocalHomologySheaf(weight="edge_weight")(cx)
    with pytest.raises(ValueError, match="stalk_width"):
        AddLocalHomologySheaf(stalk_width=0)


def test_feature_weights_give_the_same_sheaf_as_the_function():
    data = CliqueComplex()(Data(edge_index=wheel(5), x=torch.randn(6, 4, dtype=torch.float64)))
    w = (data.x[data.edges[:, 0]] - data.x[data.edges[:, 1]]).norm(dim=-1)
    ref = local_homology_sheaf(data.edges, data.triangles, 6, edge_weight=w, stalk_width=2)
    out = AddLocalHomologySheaf(stalk_width=2, weight="features")(data)
    assert torch.equal(out.restriction, ref.restriction)


def test_sheaf_batches_as_a_disjoint_union():
    t = CliqueComplex()
    s = AddLocalHomologySheaf(stalk_width=2)
    graphs = [s(t(Data(edge_index=wheel(n), num_nodes=n + 1))) for n in (4, 5, 6)]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    lap = sheaf_laplacian(batch.edges, batch.restriction, batch.num_nodes).to_dense()
    blocks = [sheaf_laplacian(g.edges, g.restriction, g.num_nodes).to_dense() for g in graphs]
    assert torch.equal(lap, torch.block_diag(*blocks))
    assert batch.vertex_mask.shape == (18, 2) and batch.edge_dims.shape == (30, 3)
