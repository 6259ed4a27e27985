import json

import pytest

from topoequi.cli import main

TINY = ["--hp", "hidden_channels=16", "--hp", "num_filters=16", "--hp", "num_interactions=1",
        "--hp", "num_gaussians=10"]


@pytest.mark.slow  # spawning two processes takes ~15 s
def test_two_gloo_processes_follow_the_single_process_loss_curve(tmp_path):
    from topoequi.datasets import QM9

    root = str(tmp_path / "qm9")
    QM9(root, source="sample", progress=False)
    # 100 molecules -> 84 train: 7 global batches of 12, 6 per process, no padding
    argv = ["train", "qm9", "--model", "schnet", "--subset", "100", "--batch-size", "12",
            "--epochs", "3", "--source", "sample", "--root", root, "--no-progress", *TINY]
    assert main(argv + ["--out", str(tmp_path / "one")]) == 0
    assert main(argv + ["--out", str(tmp_path / "two"), "--devices", "2"]) == 0
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    two = json.loads((tmp_path / "two" / "results.json").read_text())
    assert one["processes"] == 1 and two["processes"] == 2
    for a, b in zip(one["history"], two["history"], strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
        assert b["valid_mae"] == pytest.approx(a["valid_mae"], rel=1e-5)
    assert one["history"][0]["train_loss"] > one["history"][-1]["train_loss"]
    assert two["test_mae"] == pytest.approx(one["test_mae"], rel=1e-5)
