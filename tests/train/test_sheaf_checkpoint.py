"""The checkpoint epoch of ``train_split``: highest validation accuracy or lowest validation loss."""
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from topoequi.train.sheaf import SplitSchedule, train_split

# Evaluation logits per epoch for 4 nodes (train, val, val, test; labels 0, 0, 1, 0). Epoch 1 has the best
# validation accuracy (both right, barely) and a wrong test node; epoch 2 the lowest validation loss (one node
# confidently right, one slightly wrong) and a right test node; later epochs are worse on both counts.
SCRIPT = [
    [[0, 0], [1, 0], [1, 0], [-1, 0]],
    [[0, 0], [0.1, 0], [0, 0.1], [-1, 0]],
    [[0, 0], [5, 0], [0.2, 0], [1, 0]],
] + [[[0, 0], [0, 1], [1, 0], [1, 0]]] * 7


class Scripted(torch.nn.Module):
    """Returns the scripted logits of the current epoch in evaluation mode; one trainable scalar."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))
        self.epoch = 0

    def forward(self, data):
        if self.training:
            return torch.zeros(4, 2) + self.w
        self.epoch += 1
        return torch.tensor(SCRIPT[self.epoch - 1], dtype=torch.float) + 0 * self.w


def data() -> Data:
    masks = {m: torch.zeros(4, 10, dtype=torch.bool) for m in ("train", "val", "test")}
    masks["train"][0], masks["val"][1:3], masks["test"][3] = True, True, True
    return Data(y=torch.tensor([0, 0, 1, 0]), num_nodes=4, **{f"{m}_mask": v for m, v in masks.items()})


@pytest.mark.parametrize("by, epoch, test_acc, epochs_run", [("accuracy", 1, 0.0, 4), ("loss", 2, 1.0, 5)])
def test_checkpoint_epoch(by, epoch, test_acc, epochs_run):
    schedule = SplitSchedule(lr=0.01, weight_decay=0.0, epochs=10, patience=2, checkpoint_by=by)
    res = train_split(Scripted(), data(), 0, schedule)
    logits = torch.tensor(SCRIPT[epoch], dtype=torch.float)[1:3]
    assert res["epoch"] == epoch and res["test_acc"] == test_acc and res["epochs_run"] == epochs_run
    assert res["val_acc"] == [0.5, 1.0, 0.5][epoch]
    assert res["val_loss"] == pytest.approx(F.cross_entropy(logits, torch.tensor([0, 1])).item(), abs=1e-7)
