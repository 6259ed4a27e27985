"""The training engine on every available device: learning, exact resume, checkpoints that move between
devices, hooks, early stopping, precision, and the errors of bad settings."""
import math

import pytest
import torch
from torch_geometric.data import Data

from topoequi.files import load_checkpoint
from topoequi.train.device import autocast, available_devices, resolve_device
from topoequi.train.engine import TrainConfig, Trainer


def regression_set(n: int = 48, seed: int = 0) -> list[Data]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 3, generator=g)
    y = x.sum(-1) * 2.0 + 0.5
    return [Data(x=x[i], y=y[i]) for i in range(n)]


class Linear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)

    def forward(self, batch):
        return self.lin(batch.x).view(-1)


def make(out, device, epochs=4, **kwargs) -> Trainer:
    torch.manual_seed(0)
    data = regression_set()
    config = TrainConfig(epochs=epochs, batch_size=8, lr=0.3, device=str(device), progress=False, echo=False,
                         **kwargs)
    return Trainer(Linear(), data[:32], data[32:], lambda out, b: (out - b.y) ** 2,
                   lambda out, b: {"mae": (out - b.y).abs()}, config, out, identity={"task": "test"})


class Interrupt(Exception):
    pass


def test_learns_on_the_device_and_resumes_exactly(tmp_path, device):
    straight = make(tmp_path / "a", device)
    history = straight.fit()
    assert next(straight.model.parameters()).device.type == device.type
    assert history[-1]["valid_mae"] < 0.5 * history[0]["valid_mae"]

    def stop(trainer, row):
        if row["epoch"] == 2:
            raise Interrupt

    interrupted = make(tmp_path / "b", device)
    interrupted.callbacks.append(stop)
    with pytest.raises(Interrupt):
        interrupted.fit()
    resumed = make(tmp_path / "b", device)
    started = []
    resumed.epoch_start = lambda trainer, epoch: started.append((epoch, trainer.epoch))
    resumed.fit(resume=True)
    keys = ("train_loss", "valid_mae", "lr")
    assert [[r[k] for k in keys] for r in resumed.history] == [[r[k] for k in keys] for r in history]
    assert started == [(2, 2), (3, 3)]  # epoch_start sees the resumed epochs, before each one trains


def test_checkpoint_holds_cpu_tensors_and_loads_on_the_other_device(tmp_path, device, other_device):
    trainer = make(tmp_path / "a", device, epochs=2)
    trainer.fit()
    ckpt = load_checkpoint(tmp_path / "a" / "best.pt")
    assert all(t.device.type == "cpu" for t in ckpt["model"].values())
    moved = make(tmp_path / "a", other_device, epochs=2)
    moved.load(tmp_path / "a" / "best.pt")
    assert next(moved.model.parameters()).device.type == other_device.type
    trainer.load(tmp_path / "a" / "best.pt")
    a, b = trainer.evaluate(trainer.valid_set), moved.evaluate(moved.valid_set)
    assert a["mae"] == pytest.approx(b["mae"], rel=1e-6)


def test_folder_with_a_run_is_refused_unless_resumed_or_overwritten(tmp_path):
    make(tmp_path, "cpu", epochs=1).fit()
    with pytest.raises(FileExistsError, match="already holds a run"):
        make(tmp_path, "cpu", epochs=1).fit()
    assert len(make(tmp_path, "cpu", epochs=1).fit(overwrite=True)) == 1


def test_hooks_patience_and_maximised_monitor(tmp_path):
    scores = [0.2, 0.5, 0.4, 0.5, 0.3, 0.9]  # best 0.5 at epoch 2; a tie does not count; patience 3

    def validate(trainer):
        return {"score": scores[trainer.epoch]}

    def sgd(model, config):
        return torch.optim.SGD(model.parameters(), lr=config.lr), None

    seen = []
    trainer = make(None, "cpu", epochs=6, monitor="score", mode="max", patience=3)
    trainer.validate, trainer.configure_optimizers = validate, sgd
    trainer.optimizer, trainer.scheduler = sgd(trainer.model, trainer.config)
    trainer.train_batches = lambda t, epoch: seen.append(epoch) or [next(iter(_loader(t.train_set)))]
    history = trainer.fit()
    assert [r["score"] for r in history] == scores[:5] and seen == [0, 1, 2, 3, 4]
    assert trainer.best_epoch == 2 and trainer.best == 0.5 and trainer.best_row["epoch"] == 2
    assert isinstance(trainer.optimizer, torch.optim.SGD) and trainer.steps == 5


def _loader(dataset):
    from torch_geometric.loader import DataLoader

    return DataLoader(dataset, batch_size=4)


def test_non_finite_loss_stops_with_the_previous_checkpoint_intact(tmp_path):
    trainer = make(tmp_path, "cpu", epochs=3)
    trainer.callbacks.append(lambda t, row: t.model.lin.bias.data.fill_(math.nan) if row["epoch"] == 1 else None)
    with pytest.raises(FloatingPointError, match="epoch 2"):
        trainer.fit()
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1


def test_bf16_mixed_precision_keeps_losses_and_metrics_in_float32(tmp_path, device):
    trainer = make(tmp_path, device, epochs=2, precision="bf16-mixed")
    batch = next(iter(_loader(trainer.valid_set)))
    assert trainer.forward(batch).dtype == torch.float32
    with autocast(resolve_device(device), "bf16-mixed"):
        assert trainer.model.lin(batch.x.to(device)).dtype == torch.bfloat16
    history = trainer.fit()
    assert history[-1]["valid_mae"] < history[0]["valid_mae"]


@pytest.mark.parametrize("kwargs, message", [
    ({"device": "tpu"}, "--device: expected auto, cpu, cuda or cuda:N, got 'tpu'"),
    ({"device": "cuda:99"}, "--device 'cuda:99' does not exist here; available: " + ", ".join(available_devices())),
    ({"precision": "fp8"}, "--precision: expected one of float32, tf32, bf16-mixed, got 'fp8'"),
    ({"epochs": 0}, "--epochs must be a positive integer, got 0"),
    ({"lr": -1.0}, "--lr must be a positive number, got -1.0"),
])
def test_bad_settings_name_the_flag(kwargs, message):
    with pytest.raises(ValueError) as info:
        TrainConfig(**kwargs)
    assert str(info.value) == message
