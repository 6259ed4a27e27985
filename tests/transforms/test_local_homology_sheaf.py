"""AddLocalHomologySheaf: the transform gives the function's sheaf, batches as a disjoint union."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from topoequi.topology import local_homology_sheaf, sheaf_laplacian
from topoequi.transforms import AddLocalHomologySheaf, CliqueComplex


def test_feature_weights_give_the_same_sheaf_as_the_function(wheel):
    data = CliqueComplex()(Data(edge_index=wheel(5), x=torch.randn(6, 4, dtype=torch.float64)))
    w = (data.x[data.edges[:, 0]] - data.x[data.edges[:, 1]]).norm(dim=-1)
    ref = local_homology_sheaf(data.edges, data.triangles, 6, edge_weight=w, stalk_width=2)
    out = AddLocalHomologySheaf(stalk_width=2, weight="features")(data)
    assert torch.equal(out.restriction, ref.restriction)


def test_sheaf_batches_as_a_disjoint_union(wheel):
    t = CliqueComplex()
    s = AddLocalHomologySheaf(stalk_width=2)
    graphs = [s(t(Data(edge_index=wheel(n), num_nodes=n + 1))) for n in (4, 5, 6)]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    lap = sheaf_laplacian(batch.edges, batch.restriction, batch.num_nodes).to_dense()
    blocks = [sheaf_laplacian(g.edges, g.restriction, g.num_nodes).to_dense() for g in graphs]
    assert torch.equal(lap, torch.block_diag(*blocks))
    assert batch.vertex_mask.shape == (18, 2) and batch.edge_dims.shape == (30, 3)


def test_bad_input_is_named():
    ei = torch.tensor([[0, 0, 0, 1, 1, 4], [1, 2, 3, 0, 1, 4]])
    cx = CliqueComplex(max_dim=1)(Data(edge_index=ei, num_nodes=6))
    with pytest.raises(TypeError, match="AddLocalHomologySheaf: expected a SimplicialComplex"):
        AddLocalHomologySheaf()(Data(edge_index=ei, num_nodes=6))
    with pytest.raises(ValueError, match="AddLocalHomologySheaf: weight='edge_weight'"):
        AddLocalHomologySheaf(weight="edge_weight")(cx)
    with pytest.raises(ValueError, match="AddLocalHomologySheaf: weight='features' but data has no x"):
        AddLocalHomologySheaf(weight="features")(cx)
    with pytest.raises(ValueError, match="AddLocalHomologySheaf: stalk_width must be a positive int, got 0"):
        AddLocalHomologySheaf(stalk_width=0)
    with pytest.raises(ValueError, match="AddLocalHomologySheaf: weight must be None, 'edge_weight' or"):
        AddLocalHomologySheaf(weight="length")
    assert repr(AddLocalHomologySheaf(3, "features")) == "AddLocalHomologySheaf(stalk_width=3, weight='features')"
