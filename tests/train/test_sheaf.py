"""``topoequi train sheaf``: which options reach which model, the checkpoint epoch of ``train_split`` (highest
validation accuracy or lowest validation loss), and short real runs with their summary and one-line errors."""
import argparse
import csv
import json

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from topoequi import cli
from topoequi.train.sheaf import SheafModelOptions, SplitSchedule, add_arguments, build_model, train_split


def test_signed_and_augmented_flags_reach_the_models_they_apply_to():
    # one run may train several variants: --signed-width feeds the -constant ones, --augmented-laplacian the
    # normalised ones (the attention coefficients replace the normalisation)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--dataset", "texas", "--out", "x", "--stalk-width", "4", "--signed-width", "1",
                              "--augmented-laplacian"])
    options = SheafModelOptions.from_args(args)
    models = {name: build_model(name, 5, 3, options) for name in ("conv-constant", "conv", "attention", "nsd")}
    assert {k: m.signed_width for k, m in models.items()} == {"conv-constant": 1, "conv": 0, "attention": 0, "nsd": 0}
    assert {k: m.layers[0].augmented for k, m in models.items()} == {
        "conv-constant": True, "conv": True, "attention": False, "nsd": True}


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


def test_train_sheaf_on_texas(tmp_path, capsys):
    out = tmp_path / "run"
    rc = cli.main(["train", "sheaf", "--dataset", "texas", "--variant", "persistent,conv", "--splits", "2",
                   "--epochs", "3", "--baselines", "gcn,nsd", "--out", str(out),
                   "--data-root", str(tmp_path / "data")])
    assert rc == 0
    with open(out / "per_split.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["model"], r["split"]) for r in rows] == [
        ("persistent", "0"), ("persistent", "1"), ("conv", "0"), ("conv", "1"), ("gcn", "0"), ("gcn", "1"),
        ("nsd", "0"), ("nsd", "1")]
    assert all(0.0 <= float(r["test_acc"]) <= 1.0 and int(r["epochs_run"]) == 3 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    accs = [100 * float(r["test_acc"]) for r in rows if r["model"] == "gcn"]
    assert summary["models"]["gcn"]["test_mean"] == pytest.approx(sum(accs) / 2)
    assert "persistent" in (out / "summary.md").read_text()
    assert "183 nodes, 279 edges, 67 triangles" in capsys.readouterr().out


def test_constant_width_and_epsilon_flags(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "sheaf", "--dataset", "texas", "--variant", "conv-constant", "--baselines", "",
                     "--splits", "1", "--epochs", "2", "--stalk-width", "4", "--constant-width", "2", "--epsilon",
                     "--signed-width", "1", "--augmented-laplacian",
                     "--no-residual-dropout", "--normalize-features", "--checkpoint-by", "loss", "--out", str(out),
                     "--data-root", str(tmp_path / "data")]) == 0
    config = json.loads((out / "summary.json").read_text())["config"]
    assert config["constant_width"] == 2 and config["signed_width"] == 1 and config["augmented"] is True
    assert config["epsilon"] is True and config["residual_dropout"] is False
    assert config["normalize_features"] is True and config["checkpoint_by"] == "loss"


@pytest.mark.parametrize("extra, message", [
    (["--splits", "11"], "--splits must be between 1 and 10, got 11"),
    (["--baselines", "mlp"], "--baselines: unknown ['mlp']"),
    (["--variant", "conv,gcn"], "--variant: expected a comma-separated subset"),
    (["--variant", "", "--baselines", ""], "both empty"),
    (["--layers", "0"], "--layers must be at least 1, got 0"),
    (["--threads", "-2"], "--threads must be at least 1, got -2"),
])
def test_bad_arguments_fail_in_one_line_before_loading(tmp_path, capsys, extra, message):
    assert cli.main(["train", "sheaf", "--dataset", "texas", *extra, "--out", str(tmp_path / "x"),
                     "--source", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("topoequi train sheaf: error:") and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_model_errors_and_existing_runs(tmp_path, capsys):
    argv = ["train", "sheaf", "--dataset", "texas", "--variant", "conv-constant", "--baselines", "", "--epochs", "1",
            "--splits", "1", "--data-root", str(tmp_path / "data")]
    assert cli.main([*argv, "--stalk-width", "3", "--constant-width", "3", "--out", str(tmp_path / "a")]) == 2
    assert "constant_width" in capsys.readouterr().err
    assert cli.main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert cli.main([*argv, "--out", str(tmp_path / "b")]) == 2  # earlier rows are never silently overwritten
    assert "already holds a run" in capsys.readouterr().err
    assert cli.main([*argv, "--out", str(tmp_path / "b"), "--overwrite"]) == 0
    with pytest.raises(SystemExit):
        cli.main(["train", "sheaf", "--dataset", "pubmed", "--out", str(tmp_path)])
