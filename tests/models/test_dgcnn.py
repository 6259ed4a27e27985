"""DGCNN: the dense k-NN graph, the dynamic edge convolution, logits free of batch neighbours and point order,
duplicate points refused."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn import MLP, EdgeConv

from topoequi.graph import knn_graph
from topoequi.models.dgcnn import DGCNN, DynamicEdgeConv, dense_knn_graph

pytestmark = pytest.mark.usefixtures("one_thread")


def edge_sets(edges):
    return sorted(map(tuple, edges.t().tolist()))


def test_dense_knn_graph_matches_topoequi_knn():
    gen = torch.Generator().manual_seed(0)
    sizes = torch.tensor([9, 3, 14])  # the middle example has fewer points than k
    x = torch.randn(int(sizes.sum()), 16, generator=gen, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(3), sizes)
    expected = knn_graph(x, 5, batch, loop=True)
    assert edge_sets(dense_knn_graph(x, 5, batch)) == edge_sets(expected)


def test_dynamic_edge_conv_is_edge_conv_on_the_feature_knn_graph():
    torch.manual_seed(0)
    x, batch = torch.randn(30, 8), torch.repeat_interleave(torch.arange(2), 15)
    conv = DynamicEdgeConv(MLP([16, 12]), k=4).eval()
    reference = EdgeConv(conv.nn, aggr="max")
    assert torch.allclose(conv(x, batch), reference(x, knn_graph(x, 4, batch, loop=True)), atol=1e-6)
    assert repr(conv).startswith("DynamicEdgeConv(nn=MLP(16, 12), k=4")


def test_logits_ignore_batch_neighbours_and_point_order(point_cloud_logits):
    torch.manual_seed(0)
    together, alone, permuted, rotated = point_cloud_logits(DGCNN(4, width=8).eval())
    assert torch.allclose(together[1], alone[0], atol=1e-5)
    assert torch.allclose(permuted, alone, atol=1e-5)
    assert (rotated - alone).abs().max() > 1e-4             # absolute coordinates: a rotation changes the logits


def test_rejects_duplicate_points():
    pos = torch.randn(12, 3)
    pos[5] = pos[2]
    with pytest.raises(ValueError, match="DGCNN: 'pos' has duplicate points"):
        DGCNN(3, width=4)(Data(pos=pos))
