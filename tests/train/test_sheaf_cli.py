"""``topoequi train sheaf``: a short real run writes per-split accuracies and a summary."""
import csv
import json

import pytest

from topoequi import cli
from topoequi.datasets.node_classification import default_source

pytestmark = pytest.mark.skipif(not (default_source() / "webkb" / "texas").is_dir(),
                                reason="shared datasets not available")


def test_train_sheaf_on_texas(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(cli.TRAIN_TASKS, "sheaf", "topoequi.train.sheaf")
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


def test_constant_width_and_epsilon_flags(tmp_path, monkeypatch):
    monkeypatch.setitem(cli.TRAIN_TASKS, "sheaf", "topoequi.train.sheaf")
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


def test_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.setitem(cli.TRAIN_TASKS, "sheaf", "topoequi.train.sheaf")
    with pytest.raises(ValueError, match="--splits"):
        cli.main(["train", "sheaf", "--dataset", "texas", "--splits", "11", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--baselines"):
        cli.main(["train", "sheaf", "--dataset", "texas", "--baselines", "mlp", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--variant"):
        cli.main(["train", "sheaf", "--dataset", "texas", "--variant", "conv,gcn", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="both empty"):
        cli.main(["train", "sheaf", "--dataset", "texas", "--variant", "", "--baselines", "",
                  "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="constant_width"):
        cli.main(["train", "sheaf", "--dataset", "texas", "--variant", "conv-constant", "--baselines", "",
                  "--stalk-width", "3", "--constant-width", "3", "--epochs", "1", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        cli.main(["train", "sheaf", "--dataset", "pubmed", "--out", str(tmp_path)])

