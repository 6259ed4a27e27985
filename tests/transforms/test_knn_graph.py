"""KNNGraph: ties by smaller index, undirected option, batches, named errors."""
import pytest
import torch
from torch_geometric.data import Batch, Data

from topoequi.graph import knn_graph
from topoequi.transforms import KNNGraph


def test_knn_graph_transform(molecule):
    data = Data(pos=torch.tensor([[0.0], [1.0], [-1.0], [3.0]]))
    out = KNNGraph(k=1)(data.clone())
    # Nearest: 0->1 (tie with 2, smaller index), 1->0, 2->0, 3->1.
    assert out.edge_index.tolist() == [[1, 0, 0, 1], [0, 1, 2, 3]]
    undirected = KNNGraph(k=1, force_undirected=True)(data.clone())
    assert undirected.edge_index.tolist() == [[0, 0, 1, 1, 2, 3], [1, 2, 0, 3, 0, 1]]
    batch = Batch.from_data_list([molecule(10, 1), molecule(7, 2)])
    assert torch.equal(KNNGraph(k=3)(batch.clone()).edge_index, knn_graph(batch.pos, 3, batch.batch))


@pytest.mark.parametrize("make, match", [
    (lambda: KNNGraph(k=0), "KNNGraph: 'k' must be >= 1"),
    (lambda: KNNGraph(k=2, flow="x"), "KNNGraph: 'flow'"),
    (lambda: KNNGraph(k=2, cosine=1), "KNNGraph: 'cosine' must be a bool"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_missing_positions_are_reported_and_repr():
    with pytest.raises(ValueError, match="KNNGraph: data has no 'pos'"):
        KNNGraph(2)(Data(x=torch.ones(3, 1)))
    assert repr(KNNGraph(4)) == "KNNGraph(k=4)"
