"""RadiusGraph: a hand-computed example, batches kept apart, named errors."""
import pytest
import torch
from torch_geometric.data import Batch, Data

from topoequi.graph import radius_graph
from topoequi.transforms import RadiusGraph


def test_radius_graph_on_a_hand_computed_example():
    data = Data(pos=torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0],
                                  [1.0, 1.5, 0.0]]), edge_attr=torch.ones(3, 2))
    out = RadiusGraph(1.9)(data)
    # Distances: 0-1 1, 0-2 2, 0-3 1.80, 1-2 2.24, 1-3 1.5, 2-3 1.12.
    assert out.edge_index.tolist() == [[1, 3, 0, 3, 3, 0, 1, 2], [0, 0, 1, 1, 2, 3, 3, 3]]
    assert out.edge_attr is None
    capped = RadiusGraph(1.9, max_num_neighbors=1, flow="target_to_source")(data.clone())
    assert capped.edge_index.tolist() == [[0, 1, 2, 3], [1, 0, 3, 0]]
    looped = RadiusGraph(1.1, loop=True)(data.clone())
    assert looped.edge_index.tolist() == [[0, 1, 0, 1, 2, 3], [0, 0, 1, 1, 2, 3]]


def test_radius_graph_keeps_molecules_of_a_batch_apart(molecule):
    batch = Batch.from_data_list([molecule(18, seed) for seed in range(6)])
    out = RadiusGraph(5.0)(batch.clone())
    assert torch.equal(out.edge_index, radius_graph(batch.pos, 5.0, batch.batch))
    # No edge joins two molecules, and each molecule equals its own radius graph.
    assert torch.equal(batch.batch[out.edge_index[0]], batch.batch[out.edge_index[1]])
    for i, data in enumerate(batch.to_data_list()):
        own = RadiusGraph(5.0)(data).edge_index
        mask = batch.batch[out.edge_index[1]] == i
        assert torch.equal(out.edge_index[:, mask] - batch.ptr[i], own)
    assert torch.equal(out.z, batch.z)


@pytest.mark.parametrize("make, match", [
    (lambda: RadiusGraph(-1.0), "RadiusGraph: 'r' must be finite and >= 0"),
    (lambda: RadiusGraph(1.0, max_num_neighbors=0), "RadiusGraph: 'max_num_neighbors'"),
    (lambda: RadiusGraph(1.0, flow="both"), "RadiusGraph: 'flow'"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_missing_positions_are_reported():
    with pytest.raises(ValueError, match="RadiusGraph: data has no 'pos'"):
        RadiusGraph(1.0)(Data(x=torch.ones(3, 1)))
    assert repr(RadiusGraph(2.5)) == "RadiusGraph(r=2.5, max_num_neighbors=32)"
