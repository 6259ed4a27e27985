"""Point clouds to classify: files, arrays and meshes read into entries, and entries into the model's input."""
import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from topoequi.inference import Failure, PointCloud
from topoequi.inference.point_clouds import Mesh, expand_point_clouds, point_cloud_to_data, read_point_cloud

SQUARE = "OFF\n4 2 0\n0 0 0\n2 0 0\n2 2 0\n0 2 0\n3 0 1 2\n3 0 2 3\n"


def test_points_are_subsampled_and_put_in_the_unit_ball():
    pos = np.random.default_rng(1).normal(size=(500, 3)) * 7 + 3
    data = point_cloud_to_data(PointCloud("p", pos), num_points=64, seed=0)
    assert data.pos.shape == (64, 3) and float(data.pos.norm(dim=1).max()) == pytest.approx(1.0)
    assert torch.allclose(data.pos.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-12)
    assert torch.equal(point_cloud_to_data(PointCloud("p", pos), 64, seed=0).pos, data.pos)


def test_files_are_read_by_their_extension(tmp_path):
    points = np.array([[0.0, 1.0, 2.0, 9.0], [3.0, 4.0, 5.0, 9.0]])  # a fourth column (normals) is ignored
    np.save(tmp_path / "a.npy", points)
    (tmp_path / "b.csv").write_text("# x, y, z\n0, 1, 2\n3, 4, 5\n")
    (tmp_path / "sq.off").write_text(SQUARE)
    a, b, mesh = (read_point_cloud(tmp_path / name) for name in ("a.npy", "b.csv", "sq.off"))
    assert a == PointCloud("a", a.pos) and a.pos.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert b.name == "b" and np.array_equal(b.pos, a.pos) and b.pos.dtype == np.float64
    assert isinstance(mesh, Mesh) and mesh.vertices.dtype == torch.float64 and mesh.faces.shape[0] == 2


def test_unreadable_files_become_failures_naming_the_file(tmp_path):
    (tmp_path / "flat.txt").write_text("1 2\n3 4\n")
    flat = read_point_cloud(tmp_path / "flat.txt")
    assert flat == Failure("flat.txt", f"{tmp_path / 'flat.txt'}: expected points of shape [N, 3] "
                                       "(or more columns), got [2, 2]")
    assert read_point_cloud(tmp_path / "none.npy").error == f"{tmp_path / 'none.npy'}: no such file"
    assert "unknown point-cloud format; readable: .off, .npy" in read_point_cloud(tmp_path / "x.stl").error


def test_inputs_expand_to_one_entry_per_shape(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((5, 3)))
    graphs = Batch.from_data_list([Data(pos=torch.zeros(3, 3)), Data(pos=torch.ones(4, 3))])
    entries = expand_point_clouds([torch.ones(6, 3), graphs, str(tmp_path / "a.npy"), np.ones((2, 2))])
    assert [type(e).__name__ for e in entries] == ["PointCloud", "Data", "Data", "PointCloud", "Failure"]
    assert entries[0].name == "points_1" and entries[0].pos.dtype == np.float64 and entries[2].num_nodes == 4
    assert entries[4].error.startswith("cannot classify a ndarray of shape [2, 2]; expected Data")
    [single] = expand_point_clouds(np.ones((7, 3)))  # one array alone is one shape, not seven rows
    assert single.pos.shape == (7, 3)


def test_meshes_are_sampled_on_their_surface_seeded(tmp_path):
    (tmp_path / "sq.off").write_text(SQUARE)
    mesh = read_point_cloud(tmp_path / "sq.off")
    a, b, c = (point_cloud_to_data(mesh, 32, seed) for seed in (0, 0, 1))
    assert a.pos.shape == (32, 3) and torch.equal(a.pos, b.pos) and not torch.equal(a.pos, c.pos)
    assert float(a.pos[:, 2].abs().max()) == 0.0  # the square lies in z = 0
    with pytest.raises(ValueError, match="a point cloud needs at least 2 finite points, got 1"):
        point_cloud_to_data(PointCloud("one", np.zeros((1, 3))), 32, 0)
    with pytest.raises(ValueError, match="at least 2 finite points, got 2"):
        point_cloud_to_data(PointCloud("nan", np.full((2, 3), np.nan)), 32, 0)
