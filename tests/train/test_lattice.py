"""``topoequi train lattice`` through the common engine: checkpoints, log, exact resume, refusals."""
import csv

import numpy as np
import pytest

from topoequi.cli import main
from topoequi.lattice import integer_determinant, scrambled_bases, uniform_integer_bases

ARGS = ["train", "lattice", "--dim", "3", "--eval-every", "2", "--batch-size", "8", "--valid-size", "8",
        "--hidden", "4", "--layers", "1", "--reduction-steps", "2", "--no-progress"]


def rows(out):
    return list(csv.DictReader((out / "log.csv").read_text().splitlines()))


def test_train_lattice_checkpoints_and_resume(tmp_path, capsys):
    out, straight = tmp_path / "run", tmp_path / "straight"
    assert main(ARGS + ["--iterations", "4", "--out", str(out)]) == 0
    assert {"best.pt", "last.pt", "log.csv", "curves.png"} <= {p.name for p in out.iterdir()}
    assert [r["iteration"] for r in rows(out)] == ["2", "4"]
    assert "epoch 2/2" in capsys.readouterr().out  # one line per epoch on stdout
    assert main(ARGS + ["--iterations", "6", "--out", str(out), "--resume"]) == 0
    assert main(ARGS + ["--iterations", "6", "--out", str(straight)]) == 0
    resumed = rows(out)
    assert [r["iteration"] for r in resumed] == ["2", "4", "6"]
    # the data of every iteration is seeded by its index: a resumed run is the uninterrupted one
    assert [r["train_loss"] for r in resumed] == [r["train_loss"] for r in rows(straight)]
    capsys.readouterr()
    assert main(ARGS + ["--iterations", "6", "--out", str(out), "--resume", "--hidden", "5"]) == 2
    assert "another configuration" in capsys.readouterr().err
    assert main(ARGS + ["--iterations", "6", "--out", str(out)]) == 2  # a run is there: no silent overwrite
    assert "already holds a run" in capsys.readouterr().err
    assert main(ARGS + ["--iterations", "6", "--out", str(tmp_path / "empty"), "--resume"]) == 2
    assert "does not exist" in capsys.readouterr().err  # --resume without a checkpoint never starts afresh
    b3, _ = scrambled_bases(uniform_integer_bases(3, 3, seed=2), seed=3)
    np.save(tmp_path / "b3.npy", b3)
    assert main(["reduce", str(tmp_path / "b3.npy"), "--checkpoint", str(out / "best.pt")]) == 0
    u = np.load(tmp_path / "b3.U.npy")
    assert [abs(d) for d in integer_determinant(u)] == [1] * 3


@pytest.mark.parametrize("flag, value, message", [("--dim", "1", "--dim must be at least 2"),
                                                  ("--eval-every", "0", "--eval-every must be at least 1"),
                                                  ("--device", "cuda:7", "--device 'cuda:7' does not exist")])
def test_bad_arguments_before_anything_is_built(tmp_path, capsys, flag, value, message):
    argv = ARGS + ["--iterations", "2", "--out", str(tmp_path / "x")]
    assert main([*argv, flag, value]) == 2  # the last occurrence of a flag wins
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "x").exists()
