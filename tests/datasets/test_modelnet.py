import pytest
import torch

from topoequi.datasets.modelnet import (
    MODELNET10,
    ModelNet,
    normalize_scale,
    read_off,
    sample_surface,
)

CUBE = """OFF
# a unit cube with quad faces
8 6 0
0 0 0
1 0 0
1 1 0
0 1 0
0 0 1
1 0 1
1 1 1
0 1 1
4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 2 3 7 6
4 1 2 6 5
4 3 0 4 7
"""
TETRA = "OFF4 4 0\n0 0 0\n2 0 0\n0 2 0\n0 0 2\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_read_off_triangulates_and_reads_glued_header(tmp_path):
    vertices, faces = read_off(write(tmp_path / "cube.off", CUBE))
    assert vertices.shape == (8, 3) and vertices.dtype == torch.float64
    assert faces.shape == (12, 3)
    assert faces[:2].tolist() == [[0, 3, 2], [0, 2, 1]]  # fan of the first quad
    vertices, faces = read_off(write(tmp_path / "tetra.off", TETRA))  # 'OFF4 4 0' as in ModelNet
    assert vertices[3].tolist() == [0.0, 0.0, 2.0] and faces.tolist()[-1] == [1, 2, 3]


@pytest.mark.parametrize("text, message", [
    (CUBE.replace("1 1 0\n", "1 abc 0\n", 1), "line 6: expected a vertex"),
    (CUBE.replace("4 4 5 6 7", "4 4 5 6 9"), "line 13: vertex index out of range 0..7"),
    (CUBE.replace("4 2 3 7 6", "2 2 3"), "line 15: expected a face"),
    ("OFF\n8 6\n0 0 0\n", "but the header announces 8 vertices and 6 faces"),
    ("PLY\n", "line 1: expected the 'OFF' header"),
    ("OFF\nx y z\n", "line 2: expected the counts"),
])
def test_read_off_names_file_and_line(tmp_path, text, message):
    path = write(tmp_path / "bad.off", text)
    with pytest.raises(ValueError) as err:
        read_off(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_read_off_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="read_off: no file"):
        read_off(tmp_path / "none.off")


def test_surface_samples_lie_on_the_surface_by_area():
    vertices, faces = read_off_text(CUBE)
    points = sample_surface(vertices, faces, 3000, torch.Generator().manual_seed(0))
    on_face = ((points - 0.0).abs() < 1e-12) | ((points - 1.0).abs() < 1e-12)
    assert bool(on_face.any(1).all()) and bool(((points >= 0) & (points <= 1)).all())
    # two triangles of areas 1 and 3: a quarter of the points on the first
    vertices = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 5], [3, 0, 5], [0, 2, 5]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    points = sample_surface(vertices, faces, 20000, torch.Generator().manual_seed(0))
    assert abs(float((points[:, 2] == 0).double().mean()) - 0.25) < 0.01
    again = sample_surface(vertices, faces, 20000, torch.Generator().manual_seed(0))
    assert torch.equal(points, again)


def test_surface_sampling_rejects_degenerate_meshes():
    vertices = torch.tensor([[0, 0, 0], [1, 0, 0], [2, 0, 0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="zero surface area"):
        sample_surface(vertices, torch.tensor([[0, 1, 2]]), 10)


def test_normalize_scale_unit_ball():
    pos = normalize_scale(torch.randn(100, 3, dtype=torch.float64) * 7 + 3)
    assert pos.mean(0).abs().max() < 1e-12 and abs(float(pos.norm(dim=1).max()) - 1.0) < 1e-12


def read_off_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        return read_off(write(Path(folder) / "m.off", text))


def make_layout(root, per_split=(2, 1)):
    for category in MODELNET10:
        for split, count in zip(("train", "test"), per_split):
            for i in range(count):
                write(root / "raw" / category / split / f"{category}_{i + 1:04d}.off", CUBE if i % 2 else TETRA)


def test_modelnet_reads_pyg_layout_and_caches(tmp_path):
    make_layout(tmp_path)
    train = ModelNet(tmp_path, "10", train=True, num_points=64, progress=False)
    assert len(train) == 20 and repr(train) == "ModelNet10(20, split=train, num_points=64)"
    assert train[0].pos.shape == (64, 3) and train[0].pos.dtype == torch.float32
    assert [int(train[i].y) for i in range(0, 20, 2)] == list(range(10))
    norms = torch.stack([d.pos.norm(dim=1).max() for d in train])
    assert torch.allclose(norms, torch.ones(20), atol=1e-6)
    cached = list((tmp_path / "processed").glob("modelnet10_train_64pts_seed0.pt"))
    assert len(cached) == 1
    again = ModelNet(tmp_path, "10", train=True, num_points=64, progress=False)
    assert torch.equal(again[5].pos, train[5].pos)
    other_seed = ModelNet(tmp_path, "10", train=True, num_points=64, seed=1, progress=False)
    assert not torch.equal(other_seed[5].pos, train[5].pos)
    test = ModelNet(tmp_path, "10", train=False, num_points=32, progress=False)
    assert len(test) == 10


def test_modelnet_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected '.*/raw/<category>/train\|test/\*.off'"):
        ModelNet(tmp_path, "10", progress=False)
    write(tmp_path / "raw" / "bathtub" / "train" / "bathtub_0001.off", TETRA)
    with pytest.raises(FileNotFoundError, match="lacks the ModelNet10 category folders bed, chair"):
        ModelNet(tmp_path, "10", progress=False)
    with pytest.raises(ValueError, match="ModelNet: name must be '10' or '40'"):
        ModelNet(tmp_path, "20")


def test_modelnet_malformed_mesh_is_named(tmp_path):
    make_layout(tmp_path, (1, 1))
    bad = tmp_path / "raw" / "sofa" / "train" / "sofa_0001.off"
    write(bad, TETRA.replace("0 2 0", "0 2 nan"))
    with pytest.raises(ValueError) as err:
        ModelNet(tmp_path, "10", num_points=16, progress=False)
    assert str(bad) in str(err.value) and "line 4" in str(err.value)
