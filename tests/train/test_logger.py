"""What a run reports: the CSV log rewritten whole, one line per epoch, TensorBoard when installed, curves."""
import csv

import pytest

from topoequi.train.logger import RunLogger, format_row, plot_curves, write_csv

HISTORY = [{"epoch": 1, "lr": 0.001, "train_loss": 0.5, "valid_mae": 120.0, "seconds": 2.04},
           {"epoch": 2, "lr": 0.001, "train_loss": 0.25, "valid_mae": 98.7654, "seconds": 1.96}]


def test_csv_holds_every_key_in_first_seen_order(tmp_path):
    write_csv(tmp_path / "log.csv", [{"epoch": 1, "a": 0.5}, {"epoch": 2, "b": "x", "a": 0.25}])
    rows = list(csv.reader((tmp_path / "log.csv").open()))
    assert rows == [["epoch", "a", "b"], ["1", "0.5", ""], ["2", "0.25", "x"]]


def test_one_line_per_epoch():
    assert format_row({"epoch": 2, "epochs": 10, **HISTORY[1]}) == \
        "epoch 2/10  lr 0.001  train_loss 0.25  valid_mae 98.77  2.0 s"
    assert format_row({"epoch": 3, "note": "best"}) == "epoch 3  note best  nan s"


def test_run_logger_rewrites_the_log_and_echoes(tmp_path, capsys, monkeypatch):
    import topoequi.typing

    monkeypatch.setattr(topoequi.typing, "WITH_TENSORBOARD", False)
    run = RunLogger(tmp_path)
    run.log(HISTORY[:1], epochs=2)
    run.log(HISTORY, epochs=2)
    run.log(HISTORY[:1])  # after a resume from epoch 1: the log holds exactly the known rows
    run.close()
    assert (tmp_path / "log.csv").read_text().splitlines() == ["epoch,lr,train_loss,valid_mae,seconds",
                                                               "1,0.001,0.5,120.0,2.04"]
    assert capsys.readouterr().out.splitlines() == ["epoch 1/2  lr 0.001  train_loss 0.5  valid_mae 120  2.0 s",
                                                    "epoch 2/2  lr 0.001  train_loss 0.25  valid_mae 98.77  2.0 s",
                                                    "epoch 1  lr 0.001  train_loss 0.5  valid_mae 120  2.0 s"]
    (tmp_path / "quiet").mkdir()
    RunLogger(tmp_path / "quiet", echo=False).log(HISTORY)
    assert capsys.readouterr().out == "" and (tmp_path / "quiet" / "log.csv").is_file()


def test_tensorboard_scalars_when_installed(tmp_path):
    from topoequi.typing import WITH_TENSORBOARD

    if not WITH_TENSORBOARD:
        pytest.skip("tensorboard is not installed")
    run = RunLogger(tmp_path, echo=False)
    run.log(HISTORY)
    run.close()
    assert run._tensorboard is None and any((tmp_path / "tensorboard").iterdir())


def test_curves_are_a_png_and_nothing_without_history(tmp_path):
    plot_curves(HISTORY, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_curves([], tmp_path / "none.png")
    plot_curves([{"epoch": 1, "train_loss": -1.0}], tmp_path / "negative.png", monitor="score")
    assert not (tmp_path / "none.png").exists() and (tmp_path / "negative.png").is_file()
