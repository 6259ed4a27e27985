"""topoequi evaluate: a checkpoint rebuilt with its data reproduces the test MAE of its run; checkpoints of
another model, target or task are refused in one line."""
import json

import pytest

from topoequi.cli import build_parser, main
from topoequi.commands.evaluate import evaluate_checkpoint
from topoequi.files import atomic_save

TINY = ["--hp", "hidden_channels=16", "--hp", "num_filters=16", "--hp", "num_interactions=1",
        "--hp", "num_gaussians=10"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-epoch SchNet run on the first 80 sample molecules: its QM9 root, folder and results."""
    from topoequi.datasets import QM9
    from topoequi.train import qm9

    root, out = str(tmp_path_factory.mktemp("qm9")), tmp_path_factory.mktemp("run")
    QM9(root, source="sample", progress=False)
    args = build_parser().parse_args(
        ["train", "qm9", "--target", "homo", "--model", "schnet", "--subset", "80", "--batch-size", "16",
         "--epochs", "2", "--source", "sample", "--root", root, "--out", str(out), "--no-progress", *TINY])
    qm9.check_args(args)
    return root, out, qm9.train(args)


def test_evaluate_reproduces_the_test_mae_of_best(run):
    root, out, straight = run
    result = evaluate_checkpoint(str(out / "best.pt"), root=root)  # source from ckpt
    assert result["mae"] == straight["test_mae"] and result["unit"] == "meV"
    assert result["size"] == straight["test_size"] == 7  # 80 - 67 train - 6 valid
    best = json.loads((out / "results.json").read_text())["best_epoch"]
    assert (result["target"], result["model"], result["split"], result["epoch"]) == ("homo", "schnet", "test", best)
    assert evaluate_checkpoint(str(out / "best.pt"), split="valid", root=root, batch_size=2)["size"] == 6


def test_the_command_prints_one_line(run, capsys):
    root, out, straight = run
    assert main(["evaluate", str(out / "best.pt"), "--root", root, "--target", "homo", "--device", "cpu"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("schnet on homo (epoch ") and line.endswith(" molecules")
    assert f"): test MAE {straight['test_mae']:.2f} meV over 7 molecules" in line


def test_checkpoint_of_another_model_target_or_task_is_refused(run, tmp_path, capsys):
    root, out, _ = run
    ckpt = str(out / "last.pt")
    assert main(["evaluate", ckpt, "--model", "dimenet++", "--root", root]) == 2
    assert "model: checkpoint='schnet' vs requested='dimenet++'" in capsys.readouterr().err
    assert main(["evaluate", ckpt, "--target", "lumo", "--root", root]) == 2
    assert "target: checkpoint='homo' vs requested='lumo'" in capsys.readouterr().err
    atomic_save({"config": {"task": "lattice"}, "model": {}, "epoch": 1}, tmp_path / "lattice.pt")
    with pytest.raises(ValueError, match=r"checkpoint '.*lattice.pt' is for task 'lattice'; evaluate knows: qm9"):
        evaluate_checkpoint(str(tmp_path / "lattice.pt"))
    assert main(["evaluate", ckpt, "--device", "tpu"]) == 2
    assert "--device: expected auto, cpu, cuda or cuda:N, got 'tpu'" in capsys.readouterr().err
