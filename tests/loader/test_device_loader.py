"""DeviceLoader builds, on the device, exactly the batches PyG's collation builds; a dataset that does not fit
in device memory falls back to PyG's DataLoader with a warning, never an out-of-memory crash (the free memory
is injected so that the decision is tested on the CPU)."""
import pytest
import torch
from torch.utils.data import Subset
from torch_geometric.data import Batch

from topoequi.loader import DeviceLoader, device_loader_or_none
from topoequi.train.engine import TrainConfig, Trainer


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


def test_dataset_larger_than_its_share_of_free_memory_falls_back(qm9):
    view = Subset(qm9, list(range(50)))
    size = DeviceLoader.nbytes(view)
    with pytest.warns(UserWarning, match="more than 25% of the .* free on cpu; batches are built by the DataLoader"):
        assert device_loader_or_none(view, "cpu", free_bytes=4 * size - 1) is None
    loader = device_loader_or_none(view, "cpu", free_bytes=4 * size)
    assert isinstance(loader, DeviceLoader) and len(loader) == 50
    assert torch.equal(loader.batch([3]).pos, qm9[3].pos)
    assert isinstance(device_loader_or_none(view, "cpu"), DeviceLoader)  # no bound off CUDA
    with pytest.raises(ValueError, match="fraction must be in"):
        device_loader_or_none(view, "cpu", fraction=0.0)
    with pytest.raises(TypeError, match="expected an InMemoryDataset"):
        device_loader_or_none([qm9[0]], "cpu")


def test_out_of_memory_while_copying_falls_back(qm9, monkeypatch):
    def no_memory(self, dataset, device):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(DeviceLoader, "__init__", no_memory)
    with pytest.warns(UserWarning, match="out of memory while copying the dataset"):
        assert device_loader_or_none(qm9, "cpu") is None


def test_trainer_asked_for_the_device_path_falls_back_when_memory_is_short(qm9, monkeypatch):
    train = Subset(qm9, list(range(40)))
    config = TrainConfig(device="cpu", data_path="device", progress=False, echo=False)
    trainer = Trainer(torch.nn.Linear(1, 1), train, train, None, None, config, None)
    trainer.device = torch.device("cuda")  # the decision as on a GPU, without touching one
    free = 4 * DeviceLoader.nbytes(train) - 1
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 10 * free))
    with pytest.warns(UserWarning, match="more than 25% of the .* GiB free on cuda"):
        assert trainer._device_loader(train) is None
    assert trainer._device_loader(train) is None  # decided once per dataset
    trainer.device = torch.device("cpu")
    assert isinstance(trainer._device_loader(Subset(qm9, [1, 2])), DeviceLoader)  # "device" on the CPU
