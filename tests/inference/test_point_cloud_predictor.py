import json

import numpy as np
import torch

import topoequi


def split_shapes(predictor):
    from topoequi.datasets.shapes import procedural_shapes

    return procedural_shapes("test", predictor.config["per_class"] // 2, predictor.num_points, seed=0)


def test_classify_reproduces_the_evaluated_accuracy(pointcloud_ckpt):
    predictor = topoequi.load(pointcloud_ckpt)
    shapes = split_shapes(predictor)
    predictions = predictor.predict(shapes, batch_size=12)  # the evaluation's batches
    accuracy = np.mean([p.label == predictor.classes[int(d.y)] for p, d in zip(predictions, shapes)])
    results = json.loads((predictor.path.parent / "results.json").read_text())
    assert len(shapes) == 12 and accuracy == results["test_accuracy_by_rotation"]["none"]
    assert f"test accuracy by test rotation: none {100 * accuracy:.1f}%" in predictor.describe()
    assert repr(predictor).startswith("PointCloudPredictor(dataset='shapes', model='implicit', group='SO(3)'")


def test_classes_are_invariant_to_rotating_scaling_and_moving_files(pointcloud_ckpt, tmp_path):
    predictor = topoequi.load(pointcloud_ckpt)
    shape = split_shapes(predictor)[0].pos.double().numpy()
    q, r = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    q = q if np.linalg.det(q) > 0 else -q  # SO(3): the model's group
    np.save(tmp_path / "shape.npy", shape)
    np.savetxt(tmp_path / "moved.csv", 3.0 * shape @ q.T + [1.0, -2.0, 5.0], delimiter=",")
    before, after = predictor.predict([tmp_path / "shape.npy", tmp_path / "moved.csv"])
    assert (before.name, after.name, before.size) == ("shape", "moved", "64 points")
    assert after.label == before.label and abs(after.probability - before.probability) < 1e-5  # measured 6e-8


def test_meshes_are_sampled_seeded_and_bad_inputs_listed(pointcloud_ckpt, tmp_path):
    cube = "OFF\n8 6 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n0 0 1\n1 0 1\n1 1 1\n0 1 1\n" + "".join(
        f"4 {f}\n" for f in ("0 1 2 3", "4 5 6 7", "0 1 5 4", "2 3 7 6", "1 2 6 5", "0 3 7 4"))
    (tmp_path / "cube.off").write_text(cube)
    (tmp_path / "bad.off").write_text("OFF\n8 6 0\n0 0 0\n")
    predictor = topoequi.load(pointcloud_ckpt)
    rows = predictor.predict([tmp_path / "cube.off", tmp_path / "bad.off", tmp_path / "cube.stl",
                              torch.zeros(1, 3), tmp_path / "cube.off"], seed=4)
    assert rows[0] == rows[4] and rows[0].size == "64 points" and rows[0].label in predictor.classes
    assert "bad.off" in rows[1].error and "header announces 8 vertices and 6 faces" in rows[1].error
    assert "unknown point-cloud format" in rows[2].error and "at least 2 finite points" in rows[3].error
    assert predictor.table(rows[3:4]) == [{"name": "points_4", "size": None, "label": None, "probability": None,
                                           "error": "a point cloud needs at least 2 finite points, got 1"}]
