"""DeviceLoader builds, on the device, exactly the batches PyG's collation builds."""
import pytest
import torch
from torch.utils.data import Subset
from torch_geometric.data import Batch

from topoequi.datasets import QM9
from topoequi.loader import DeviceLoader


@pytest.fixture(scope="module")
def qm9():
    return QM9(source="sample", progress=False)


def test_batches_equal_pyg_collation_field_for_field(qm9, device):
    view = Subset(Subset(qm9, list(range(100, 400))), list(range(299, -1, -3)))  # nested views
    loader = DeviceLoader(view, device)
    order = [5, 0, 77, 3, 99, 42, 1]
    for batch, chunk in zip(loader.batches(order, 3), ([5, 0, 77], [3, 99, 42], [1]), strict=True):
        ref = Batch.from_data_list([view[i] for i in chunk])
        assert batch.num_graphs == ref.num_graphs == len(chunk)
        for key in ("z", "pos", "x", "y", "edge_index", "edge_attr", "batch", "ptr", "idx"):
            assert batch[key].device.type == device.type
            assert torch.equal(batch[key].cpu(), ref[key]), key
    assert len(loader) == 100


def test_rejects_what_it_cannot_hold(qm9):
    with pytest.raises(TypeError, match="expected an InMemoryDataset"):
        DeviceLoader([qm9[0], qm9[1]], "cpu")
    assert DeviceLoader.nbytes(qm9) > 90396 * 3 * 4  # at least the positions
