import argparse
import csv
import json

import pytest

import topoequi
from topoequi import predict_cli
from topoequi.typing import WITH_RDKIT

needs_rdkit = pytest.mark.skipif(not WITH_RDKIT, reason="SMILES input needs RDKit (the qm9 extra)")


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="topoequi predict")
    predict_cli.add_arguments(parser)
    return predict_cli.run(parser.parse_args([*map(str, argv), "--no-progress"]))


@pytest.fixture
def water_xyz(tmp_path):
    path = tmp_path / "water.xyz"
    path.write_text("3\n\nO 0 0 0.1173\nH 0 0.7572 -0.4692\nH 0 -0.7572 -0.4692\n"
                    "3\n\nO 0 0 0.1173\nH 0 0.7572 -0.4692\nNa 0 -0.7572 -0.4692\n")
    return path


def test_xyz_rows_and_a_failure_keep_their_row(schnet_ckpt, water_xyz, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert run(schnet_ckpt, water_xyz, "--output", out) == 1  # one structure failed, its row is kept
    rows = list(csv.DictReader(out.open()))
    assert [(r["name"], r["formula"]) for r in rows] == [("water#1", "H2O"), ("water#2", "HNaO")]
    assert float(rows[0]["prediction"]) == topoequi.load(schnet_ckpt).predict([water_xyz])[0].value
    assert rows[1]["prediction"] == "" and "element(s) Na not in the training set" in rows[1]["error"]
    assert "1 of 2 structures predicted" in capsys.readouterr().err


@needs_rdkit
def test_csv_rows_match_python_and_failures_keep_their_row(schnet_ckpt, water_xyz, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert run(schnet_ckpt, water_xyz, "CC#N", "--output", out) == 1  # one structure failed
    rows = list(csv.DictReader(out.open()))
    assert [r["name"] for r in rows] == ["water#1", "water#2", "CC#N"]
    assert rows[0]["formula"] == "H2O" and rows[0]["target"] == "homo" and rows[0]["unit"] == "eV"
    expected = topoequi.load(schnet_ckpt).predict([water_xyz, "CC#N"])[0].value  # the same batch
    assert float(rows[0]["prediction"]) == expected and rows[0]["error"] == ""
    assert rows[1]["prediction"] == "" and "element(s) Na not in the training set" in rows[1]["error"]
    err = capsys.readouterr().err
    assert "topoequi predict: water#2: element(s) Na" in err and "2 of 3 structures predicted" in err


@needs_rdkit
def test_json_output_and_stdout(schnet_ckpt, water_xyz, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert run(schnet_ckpt, f"{water_xyz}", "--output", out, "--batch-size", "1") == 1
    report = json.loads(out.read_text())
    assert report["target"] == "homo" and report["model"] == "schnet" and len(report["predictions"]) == 2
    assert isinstance(report["predictions"][0]["prediction"], float)
    capsys.readouterr()
    assert run(schnet_ckpt, "C=O") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,formula,target,prediction,unit,error" and lines[1].startswith("C=O,CH2O,homo,-")


def test_usage_errors_name_the_argument(schnet_ckpt, tmp_path):
    with pytest.raises(ValueError, match=r"--output must end in \.csv or \.json, got '.*out\.txt'"):
        run(schnet_ckpt, "CCO", "--output", tmp_path / "out.txt")
    with pytest.raises(FileNotFoundError, match="none.pt' does not exist"):
        run(tmp_path / "none.pt", "CCO")
    with pytest.raises(ValueError, match="--device: expected auto, cpu, cuda or cuda:N, got 'tpu'"):
        run(schnet_ckpt, "CCO", "--device", "tpu")
    with pytest.raises(ValueError, match="--batch-size must be a positive int, got 0"):
        run(schnet_ckpt, "CCO", "--batch-size", "0")
