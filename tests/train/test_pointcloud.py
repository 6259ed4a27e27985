import argparse
import json

import pytest
import torch
from torch_geometric.data import Data

from topoequi.train import pointcloud

pytestmark = pytest.mark.usefixtures("one_thread")


def parse(*argv):
    parser = argparse.ArgumentParser()
    pointcloud.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_rotated_views():
    shapes = [Data(pos=torch.randn(20, 3, dtype=torch.float64)) for _ in range(3)]
    assert pointcloud.Rotated(shapes, "none")[1] is shapes[1]
    fixed = pointcloud.Rotated(shapes, "so3", seed=4)
    a, b = fixed[2].pos, fixed[2].pos
    assert torch.equal(a, b) and not torch.allclose(a, shapes[2].pos)
    rotation = torch.linalg.lstsq(shapes[2].pos, a).solution.T
    assert torch.allclose(rotation @ rotation.T, torch.eye(3, dtype=torch.float64), atol=1e-10)
    assert abs(float(torch.linalg.det(rotation)) - 1.0) < 1e-10
    about_z = pointcloud.Rotated(shapes, "z", seed=4)[0].pos
    assert torch.equal(about_z[:, 2], shapes[0].pos[:, 2]) and not torch.allclose(about_z, shapes[0].pos)
    with pytest.raises(ValueError, match="Rotated: mode must be one of"):
        pointcloud.Rotated(shapes, "x")


@pytest.mark.parametrize("model", [pytest.param("implicit", marks=pytest.mark.slow), "dgcnn"])
def test_run_end_to_end(tmp_path, model, capsys):
    hp = ["--hp", "hidden_irreps='4x0e+2x1o'", "--hp", "k=4"] if model == "implicit" else ["--hp", "width=4"]
    args = parse("--model", model, "--per-class", "2", "--num-points", "24", "--epochs", "1", "--batch-size", "8",
                 "--no-progress", "--out", str(tmp_path), *hp)
    assert pointcloud.run(args) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    accuracy = results["test_accuracy_by_rotation"]
    assert set(accuracy) == {"none", "z", "so3"} and all(0.0 <= v <= 1.0 for v in accuracy.values())
    assert results["sizes"] == {"train": 24, "valid": 12, "test": 12}
    assert (tmp_path / "best.pt").is_file() and (tmp_path / "log.csv").is_file()
    if model == "implicit":  # an invariant classifier gives the same answers on rotated shapes
        assert accuracy["none"] == accuracy["z"] == accuracy["so3"]
    assert "test accuracy" in capsys.readouterr().out


def test_modelnet_needs_root(tmp_path, capsys):
    from topoequi.cli import main

    assert main(["train", "pointcloud", "--dataset", "modelnet40", "--out", str(tmp_path / "a")]) == 2
    assert "--root is required for modelnet40" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()  # refused before the run folder is taken
    assert main(["train", "pointcloud", "--dataset", "modelnet10", "--root", str(tmp_path),
                 "--out", str(tmp_path / "b")]) == 2
    assert "expected" in capsys.readouterr().err


def test_run_on_modelnet_files(tmp_path):
    from topoequi.datasets.modelnet import MODELNET10

    tetra = "OFF\n4 4 0\n0 0 0\n2 0 0\n0 2 0\n0 0 {h}\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"
    for label, category in enumerate(MODELNET10):
        for split, count in (("train", 3), ("test", 1)):
            folder = tmp_path / "raw" / category / split
            folder.mkdir(parents=True)
            for i in range(count):
                (folder / f"{category}_{i + 1:04d}.off").write_text(tetra.format(h=1 + label + 0.1 * i))
    out = tmp_path / "run"
    args = parse("--dataset", "modelnet10", "--root", str(tmp_path), "--model", "dgcnn", "--num-points", "16",
                 "--epochs", "1", "--batch-size", "8", "--no-progress", "--out", str(out), "--hp", "width=4")
    assert pointcloud.run(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["sizes"] == {"train": 27, "valid": 3, "test": 10}
    assert (tmp_path / "processed" / "modelnet10_train_16pts_seed0.pt").is_file()
