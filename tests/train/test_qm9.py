import json

import pytest
import torch

from topoequi.cli import build_parser, main
from topoequi.files import load_checkpoint
from topoequi.train import qm9

TINY = ["--hp", "hidden_channels=16", "--hp", "num_filters=16", "--hp", "num_interactions=1",
        "--hp", "num_gaussians=10"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    from topoequi.datasets import QM9

    path = str(tmp_path_factory.mktemp("qm9"))
    QM9(path, source="sample", progress=False)
    return path


def parse(root, out, *extra):
    args = build_parser().parse_args(
        ["train", "qm9", "--target", "homo", "--model", "schnet", "--subset", "80",
         "--batch-size", "16", "--epochs", "3", "--source", "sample", "--root", root,
         "--out", str(out), "--no-progress", *TINY, *extra])
    qm9.check_args(args)
    return args


class Interrupt(Exception):
    pass


def stop_after_first_epoch(trainer, row):
    if row["epoch"] == 1:
        raise Interrupt


def test_resume_after_interruption_is_exact(root, tmp_path):
    straight = qm9.train(parse(root, tmp_path / "a"))
    with pytest.raises(Interrupt):
        qm9.train(parse(root, tmp_path / "b"), callbacks=(stop_after_first_epoch,))
    assert load_checkpoint(tmp_path / "b" / "last.pt")["epoch"] == 1
    resumed = qm9.train(parse(root, tmp_path / "b", "--resume"))
    a = json.loads((tmp_path / "a" / "results.json").read_text())["history"]
    b = json.loads((tmp_path / "b" / "results.json").read_text())["history"]
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert [r["valid_mae"] for r in a] == [r["valid_mae"] for r in b]
    assert a[0]["train_loss"] > a[-1]["train_loss"]  # it learns
    assert resumed["test_mae"] == straight["test_mae"]
    wa = load_checkpoint(tmp_path / "a" / "last.pt")["model"]
    wb = load_checkpoint(tmp_path / "b" / "last.pt")["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    log = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,lr,train_loss,valid_mae") and len(log) == 4
    assert (tmp_path / "b" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_checkpoint_of_another_model_or_config_is_refused(root, tmp_path, capsys):
    with pytest.raises(Interrupt):
        qm9.train(parse(root, tmp_path), callbacks=(stop_after_first_epoch,))
    argv = ["train", "qm9", "--target", "homo", "--subset", "80", "--batch-size", "16",
            "--epochs", "3", "--source", "sample", "--root", root, "--out", str(tmp_path),
            "--no-progress", "--resume"]
    assert main(argv + ["--model", "dimenet++"]) == 2
    assert "model: checkpoint='schnet' vs requested='dimenet++'" in capsys.readouterr().err
    assert main(argv + ["--model", "schnet", "--target", "lumo", *TINY]) == 2
    assert "target: checkpoint='homo' vs requested='lumo'" in capsys.readouterr().err
    assert main(argv[:-1] + ["--model", "schnet", *TINY]) == 2  # a run is there: no overwrite
    assert "already holds a run" in capsys.readouterr().err


def test_bad_arguments_name_what_is_valid(root, tmp_path, capsys):
    assert main(["train", "qm9", "--target", "homoo", "--root", root, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown QM9 target 'homoo'" in err and "valid targets: mu, alpha, homo" in err
    assert main(["train", "qm9", "--model", "painn", "--root", root, "--out", str(tmp_path)]) == 2
    assert "unknown model 'painn'; available: implicit, steerable, schnet, dimenet++" in capsys.readouterr().err
    # hyper-parameters, devices and run folders are checked before any data is loaded
    assert main(["train", "qm9", "--model", "schnet", "--hp", "width=3", "--root", str(tmp_path / "none"),
                 "--out", str(tmp_path / "a")]) == 2
    assert "unknown hyper-parameters ['width']" in capsys.readouterr().err
    assert main(["train", "qm9", "--device", "cuda:99", "--root", str(tmp_path / "none"),
                 "--out", str(tmp_path / "a")]) == 2
    assert "--device 'cuda:99' does not exist here; available: cpu" in capsys.readouterr().err
    assert main(["train", "qm9", "--epochs", "0", "--root", str(tmp_path / "none"),
                 "--out", str(tmp_path / "a")]) == 2
    assert "--epochs must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "none").exists() and not (tmp_path / "a").exists()


def test_split_too_small_to_evaluate_is_refused_before_training(root, tmp_path, capsys):
    assert main(["train", "qm9", "--model", "schnet", *TINY, "--subset", "3", "--source", "sample", "--root", root,
                 "--out", str(tmp_path), "--no-progress"]) == 2
    assert ("the standard split of 3 molecules has 2/1/0 train/valid/test molecules; every part needs at least one"
            in capsys.readouterr().err)
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "last.pt").exists()


def test_objectives_standardize_and_report_mev():
    stats = qm9.TargetStats("homo", 2, mean=-6.5, std=0.5, unit="meV")
    loss_fn, metrics_fn = qm9.objectives(stats)
    batch = type("B", (), {"y": torch.zeros(2, 19)})()
    batch.y[:, 2] = torch.tensor([-6.0, -7.0])
    out = torch.tensor([1.0, -1.0])  # standardized predictions of exactly -6.0 and -7.0
    assert loss_fn(out, batch).tolist() == [0.0, 0.0]
    assert metrics_fn(torch.tensor([1.2, -1.0]), batch)["mae"].tolist() == pytest.approx([100.0, 0.0])
    assert qm9.natural_unit("alpha") == ("a0^3", 1.0) and qm9.default_model() == "implicit"


def test_batches_gathered_on_the_device_train_the_same_steps(root, tmp_path):
    loader = qm9.train(parse(root, tmp_path / "loader", "--data-path", "loader"))
    device = qm9.train(parse(root, tmp_path / "device", "--data-path", "device"))
    a = json.loads((tmp_path / "loader" / "results.json").read_text())["history"]
    b = json.loads((tmp_path / "device" / "results.json").read_text())["history"]
    assert [(r["train_loss"], r["valid_mae"]) for r in a] == [(r["train_loss"], r["valid_mae"]) for r in b]
    assert device["test_mae"] == loader["test_mae"]
