"""The CUDA-graph training step: refused where it cannot run; on the CPU its padded eager mode (the same
arithmetic as the captured step) trains the steps of the plain loop; the capture itself is tested on CUDA."""
import copy
import json

import pytest
import torch
from torch_geometric.data import Batch

from topoequi.cli import main
from topoequi.datasets import QM9
from topoequi.loader.static_shapes import ShapeBudget
from topoequi.models.steerable_molecule_net import build_steerable_molecule_net
from topoequi.train import qm9
from topoequi.train.cuda_graph import GraphedStep, GraphedTrainer, check_cuda_graph_args
from topoequi.train.engine import TrainConfig, Trainer


@pytest.fixture(scope="module")
def sample():
    return QM9(source="sample", subset=80, progress=False)


def batches(sample, device, dtype):
    out = []
    for chunk in ([0, 5, 9, 13], [20, 21, 22], [30, 31, 32, 33, 34, 35, 36, 37], [40, 50, 60, 70]):
        batch = Batch.from_data_list([sample[i] for i in chunk]).to(device)
        batch.pos = batch.pos.to(dtype)
        out.append(batch)
    return out


def test_cuda_graph_is_refused_off_cuda_and_for_other_models(tmp_path, capsys, small_hparams):
    assert main(["train", "qm9", "--cuda-graph", "--device", "cpu", "--root", str(tmp_path / "none"),
                 "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "--cuda-graph captures the training step as a CUDA graph; it needs a CUDA --device, got cpu" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "none").exists()
    cuda = torch.device("cuda", 0)
    with pytest.raises(ValueError, match="runs the implicit and steerable models, got --model schnet"):
        check_cuda_graph_args(cuda, "schnet", 1, "float32")
    with pytest.raises(ValueError, match="runs in one process, got --devices 2"):
        check_cuda_graph_args(cuda, "implicit", 2, "float32")
    with pytest.raises(ValueError, match="float32 or tf32, got --precision bf16-mixed"):
        check_cuda_graph_args(cuda, "steerable", 1, "bf16-mixed")
    check_cuda_graph_args(cuda, "implicit", 1, "tf32")
    model = build_steerable_molecule_net("implicit", small_hparams)
    with pytest.raises(ValueError, match="capture needs a CUDA device, the model is on cpu"):
        GraphedStep(model, torch.optim.AdamW(model.parameters()), None, ShapeBudget(4, 100, 900, 32))
    with pytest.raises(TypeError, match="runs a SteerableMoleculeNet"):
        GraphedStep(torch.nn.Linear(2, 2), None, None, ShapeBudget(4, 100, 900, 32), capture=False)


def run_steps(model, make_step, data) -> list[float]:
    step = make_step(model)
    return [float(step(batch)[0]) for batch in data], step


def test_padded_steps_train_the_plain_steps(sample, small_hparams, homo_stats):
    """AdamW with clipping over four batches, one of them over the budget (trained unpadded): same losses
    and parameters as the plain step, float64. (A bias before batch norm has a zero gradient up to rounding,
    which AdamW turns into steps of lr * 1e-16 / eps = 1e-11: parameters agree to 1e-10, losses to 1e-12.)"""
    torch.manual_seed(0)
    model = build_steerable_molecule_net("implicit", small_hparams).double().train()
    twin = copy.deepcopy(model)
    loss_fn, _ = qm9.objectives(homo_stats)
    data = batches(sample, "cpu", torch.float64)
    budget = ShapeBudget(graphs=6, atoms=150, edges=1500, max_degree=32)  # the batch of 8 exceeds it

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def plain(batch):
        optimizer.zero_grad()
        losses = loss_fn(model(batch), batch)
        losses.mean().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        return losses.detach().sum(), batch.num_graphs

    expected = [float(plain(b)[0]) for b in data]
    step = GraphedStep(twin, torch.optim.AdamW(twin.parameters(), lr=1e-3), loss_fn, budget, grad_clip=0.5,
                       capture=False)
    got = [step(b) for b in data]
    assert [g[1] for g in got] == [4, 3, 8, 4] and (step.eager_steps, step.unpadded_steps) == (3, 1)
    assert [float(g[0]) for g in got] == pytest.approx(expected, rel=0, abs=1e-12)
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-10), name
    for name, b in model.named_buffers():
        assert torch.allclose(b.double(), dict(twin.named_buffers())[name].double(), rtol=0, atol=1e-12), name


def test_graphed_trainer_trains_like_the_trainer(sample, small_hparams, homo_stats):
    """The Trainer with the padded step (eager off CUDA) gives the plain Trainer's history (float32; the
    validation MAE to 0.2%: the biases before batch norm, whose gradients are zero up to rounding, take
    AdamW steps of rounding noise, and the running means in evaluation follow them)."""
    from torch.utils.data import Subset

    loss_fn, metrics_fn = qm9.objectives(homo_stats)
    histories = []
    for trainer_class in (Trainer, GraphedTrainer):
        torch.manual_seed(0)
        model = build_steerable_molecule_net("steerable", small_hparams)
        config = TrainConfig(epochs=2, batch_size=16, device="cpu", progress=False, echo=False, seed=0)
        trainer = trainer_class(model, Subset(sample, list(range(64))), Subset(sample, list(range(64, 80))),
                                loss_fn, metrics_fn, config, None)
        trainer.capture = False
        histories.append(trainer.fit())
    for plain, padded in zip(*histories):
        assert padded["train_loss"] == pytest.approx(plain["train_loss"], rel=1e-4)
        assert padded["valid_mae"] == pytest.approx(plain["valid_mae"], rel=2e-3)
    assert histories[1][0]["train_loss"] != histories[1][1]["train_loss"]  # it trained


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_captured_step_replays_the_eager_padded_step(sample, small_hparams, homo_stats):
    """On CUDA: after the warm-up, replays of the captured step train as the eager padded step does."""
    torch.manual_seed(0)
    model = build_steerable_molecule_net("implicit", small_hparams).cuda().train()
    twin = copy.deepcopy(model)
    loss_fn, _ = qm9.objectives(homo_stats)
    data = batches(sample, "cuda", torch.float32) * 3
    budget = ShapeBudget(graphs=8, atoms=260, edges=3000, max_degree=32)
    steps = [GraphedStep(m, torch.optim.AdamW(m.parameters(), lr=1e-3), loss_fn, budget, grad_clip=10.0,
                         capture=c) for m, c in ((model, True), (twin, False))]
    losses = [[float(s(b)[0]) for b in data] for s in steps]
    assert steps[0].failed is None and steps[0].replays == len(data) - 3, steps[0].failed
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-5)
    json.dumps(losses)
