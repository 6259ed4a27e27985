"""topoequi train cryoem: one tiny run end to end (log, checkpoints, PNG, results), resume refusal, bad flags."""
import argparse
import json

import pytest
import torch

from topoequi.train import cryoem


def parse(*argv):
    parser = argparse.ArgumentParser()
    cryoem.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.slow
def test_tiny_run_writes_everything(tmp_path):
    out = tmp_path / "run"
    args = parse("--encoder", "d4", "--symmetric-loss", "--images", "16", "--epochs", "2", "--batch-size", "8",
                 "--channels", "1,1,1,1", "--plot-every", "1", "--out", str(out), "--no-progress", "--device", "cpu")
    assert cryoem.run(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["encoder"] == "d4" and results["symmetric_loss"] and len(results["history"]) == 2
    row = results["history"][-1]
    assert 0.0 <= row["valid_pose_error"] <= 180.0
    assert 0.0 <= row["valid_within_15"] <= 1.0
    assert 5.0 <= row["valid_fsc_0.143"] <= 80.0  # between Nyquist (2 x 2.5 A) and the box (32 x 2.5 A)
    assert row["train_loss"] < results["history"][0]["train_loss"] or row["train_loss"] < 1.0
    for name in ("log.csv", "last.pt", "best.pt", "curves.png", "volume_epoch001.png", "volume_epoch002.png"):
        assert (out / name).is_file(), name
    with pytest.raises(FileExistsError):
        cryoem.run(parse("--images", "16", "--epochs", "2", "--channels", "1,1,1,1", "--out", str(out),
                         "--no-progress", "--device", "cpu"))


def test_hypotheses_with_an_annealed_soft_minimum(tmp_path):
    out = tmp_path / "run"
    args = parse("--heads", "2", "--grid", "cube", "--softmin", "0.1,0.001,2", "--support", "10", "--images", "8",
                 "--epochs", "3", "--batch-size", "8", "--channels", "1,1,1,1", "--plot-every", "0", "--out", str(out),
                 "--no-progress", "--device", "cpu")
    assert cryoem.run(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert (results["heads"], results["grid"], results["softmin"], results["support"]) == (2, "cube", "0.1,0.001,2", 10)
    volume = torch.load(out / "last.pt", weights_only=True)["model"]["decoder.volume"]
    axis = torch.arange(32.0) - 15.5
    outside = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).norm(dim=-1) > 10
    assert volume.min() == 0 and volume[outside].abs().max() == 0 and volume.max() > 0  # projected every step
    assert [row["epoch"] for row in results["history"]] == [1, 2, 3]
    assert all(0.0 <= row["valid_pose_error"] <= 180.0 for row in results["history"])
    schedule = cryoem.parse_softmin("0.1,0.001,2")
    assert [cryoem.temperature(schedule, e) for e in range(4)] == pytest.approx([0.1, 0.01, 0.001, 0.001], rel=1e-12)
    assert cryoem.temperature(None, 5) == 0.0


@pytest.mark.parametrize("argv, message", [
    (("--heads", "0"), "--heads must be at least 1"),
    (("--support", "-3"), "--support must be >= 0"),
    (("--softmin", "0.1,0.01"), "--softmin must be T0,T1,E"),
    (("--softmin", "0,0.01,5"), "--softmin needs T0 > 0, T1 > 0 and E >= 1"),
    (("--images", "0"), "--images must be at least 1"),
    (("--snr", "-1"), "--snr must be positive"),
    (("--stack", "a.mrcs"), "--stack and --star go together"),
    (("--channels", "4,x"), "--channels must be positive integers"),
    (("--plot-every", "-2"), "--plot-every must be >= 0"),
])
def test_bad_flags_are_refused_before_any_data(argv, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        cryoem.check_args(parse(*argv, "--out", str(tmp_path / "x")))
    assert not (tmp_path / "x").exists()
