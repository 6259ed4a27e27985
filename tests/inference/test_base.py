"""Predictor: batched prediction that keeps the order of its inputs and lists failures, devices, the run's
results, and the errors of checkpoints and settings that do not fit."""
import json

import pytest
import torch
from torch_geometric.data import Batch, Data

import topoequi
from topoequi.inference import Molecule, MoleculePredictor, write_xyz
from topoequi.inference.base import Predictor
from topoequi.inference.molecule import Failure


class Sum(torch.nn.Module):
    """2 x the sum of each graph's ``x`` once the weight is 2."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(1, 1, bias=False)

    def forward(self, batch):
        out = self.lin(batch.x).view(-1)
        return out.new_zeros(batch.num_graphs).index_add_(0, batch.batch, out)


class Doubler(Predictor):
    """A toy task: the prediction of a graph is 2 x the sum of its ``x``; a negative ``x`` cannot be featurised."""

    def build(self):
        return Sum()

    def expand(self, inputs):
        return [Data(x=torch.tensor([[float(v)]]), name=f"v{v}") if isinstance(v, int) else Failure("bad", "no int")
                for v in inputs]

    def featurise(self, entry, seed):
        if float(entry.x) < 0:
            raise ValueError("negative")
        return Data(x=entry.x)

    def outputs(self, out):
        return out.tolist()

    def result(self, name, graph, output):
        return (name, output)

    def failure(self, name, entry, error):
        return (name, error)

    def row(self, prediction):
        return {"name": prediction[0], "value": prediction[1]}

    def description(self):
        return ["doubler", "data: integers"]


@pytest.fixture
def doubler(tmp_path):
    checkpoint = {"config": {"task": "toy", "model": "linear"}, "model": {"lin.weight": torch.tensor([[2.0]])},
                  "epoch": 3}
    return Doubler(checkpoint, tmp_path / "best.pt", device="cpu", dtype=torch.float64)


def test_predictions_keep_the_input_order_across_batches_and_failures(doubler):
    rows = doubler.predict([1, -2, "x", 4, 5], batch_size=2)
    assert rows == [("v1", 2.0), ("v-2", "negative"), ("bad", "no int"), ("v4", 8.0), ("v5", 10.0)]
    assert doubler.table(rows[:2]) == [{"name": "v1", "value": 2.0}, {"name": "v-2", "value": "negative"}]
    assert doubler.model.lin.weight.dtype == torch.float64 and doubler.epoch == 3
    assert doubler.header() == {"checkpoint": str(doubler.path), "task": "toy", "model": "linear"}
    assert doubler.describe() == ("doubler\nmodel: linear, 1 parameters, hyper-parameters default\n"
                                  "data: integers\ndevice: cpu, float64")


def test_results_are_read_only_when_they_agree(doubler):
    assert doubler.results() is None  # no results.json next to the checkpoint
    (doubler.path.parent / "results.json").write_text(json.dumps({"task": "toy", "test_mae": 1.5}))
    assert doubler.results(task="toy") == {"task": "toy", "test_mae": 1.5}
    assert doubler.results(task="qm9") is None


def test_checkpoints_that_do_not_fit_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Doubler: checkpoint 'a.pt' lacks \['model'\] in its config"):
        Doubler({"config": {"task": "toy"}, "model": {}}, "a.pt")
    with pytest.raises(ValueError, match="Doubler: checkpoint 'b.pt' does not fit model 'linear'"):
        Doubler({"config": {"task": "toy", "model": "linear"}, "model": {}}, "b.pt")


def test_every_input_kind_and_failures_in_order(schnet_ckpt, split_molecules, tmp_path):
    predictor = topoequi.load(schnet_ckpt, device="cpu")
    molecules = split_molecules(predictor)[:3]
    reference = [p.value for p in predictor.predict(molecules)]
    assert [p.value for p in predictor.predict(Batch.from_data_list(molecules))] == reference
    assert [p.name for p in predictor.predict(molecules)] == [d.name for d in molecules]
    d = molecules[0]
    write_xyz(tmp_path / "two.xyz", [Molecule.from_arrays(d.name, d.z, d.pos)])
    (tmp_path / "two.xyz").write_text((tmp_path / "two.xyz").read_text() + "1\n\nC 0 0 0\n")
    mixed = predictor.predict([(d.z, d.pos), tmp_path / "two.xyz", (torch.tensor([6, 17]), torch.eye(3)[:2]),
                               Molecule.from_arrays("mol", d.z.numpy(), d.pos.numpy()), 3.5], batch_size=2)
    assert [p.name for p in mixed] == ["molecule_1", "two#1", "two#2", "molecule_3", "mol", "input_5"]
    values = [p.value for p in mixed if p.error is None]  # the same molecule three times, in other batches
    assert len(values) == 3 and max(abs(v - reference[0]) for v in values) < 1e-6
    assert "at least 2 atoms" in mixed[2].error and "Cl not in the training set" in mixed[3].error
    assert mixed[5].error.startswith("cannot predict on a float") and mixed[2].formula == "C"
    assert str(mixed[0]) == f"molecule_1 ({mixed[0].formula}): {reference[0]:.6f} eV"


def test_a_checkpoint_of_other_hyper_parameters_and_bad_settings_are_refused(schnet_ckpt):
    ckpt = torch.load(schnet_ckpt, weights_only=True)
    ckpt["config"]["hparams"] = {**ckpt["config"]["hparams"], "hidden_channels": 32}
    with pytest.raises(ValueError, match="MoleculePredictor: checkpoint .* does not fit model 'schnet'"):
        MoleculePredictor(ckpt, "edited.pt")
    with pytest.raises(ValueError, match="--device: expected auto, cpu, cuda or cuda:N, got 'tpu'"):
        topoequi.load(schnet_ckpt, device="tpu")
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        topoequi.load(schnet_ckpt).predict("CCO", batch_size=0)


def test_predict_on_every_device(schnet_ckpt, split_molecules, device):
    on_cpu = topoequi.load(schnet_ckpt, device="cpu")
    predictor = topoequi.load(schnet_ckpt, device=device)
    assert next(predictor.model.parameters()).device.type == device.type
    molecules = split_molecules(predictor)
    inputs = [*molecules, (molecules[0].z, molecules[0].pos.double())]  # Data on the CPU, arrays
    ours, reference = predictor.predict(inputs), on_cpu.predict(inputs)
    assert max(abs(a.value - b.value) for a, b in zip(ours, reference)) < 1e-5  # eV, float32 on either device
