"""``topoequi train sheaf``: a short real run writes per-split accuracies and a summary."""
import csv
import json

import pytest

from topoequi import cli


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
