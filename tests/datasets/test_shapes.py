import pytest
import torch

from topoequi.datasets.shapes import SHAPE_CLASSES, procedural_shapes


def test_shape_set_layout_and_normalisation():
    shapes = procedural_shapes("train", per_class=2, num_points=64, seed=0)
    assert len(SHAPE_CLASSES) >= 10 and len(shapes) == 2 * len(SHAPE_CLASSES)
    assert [int(d.y) for d in shapes[::2]] == list(range(len(SHAPE_CLASSES)))
    for d in shapes:
        assert d.pos.shape == (64, 3) and d.pos.dtype == torch.float32
        assert abs(float(d.pos.norm(dim=1).max()) - 1.0) < 1e-6
        assert float(d.pos.mean(0).abs().max()) < 1e-5
        assert torch.unique(d.pos, dim=0).shape[0] == 64  # no duplicate points


def test_shape_set_is_seeded_with_intra_class_variation():
    a = procedural_shapes("test", per_class=2, num_points=32, seed=3)
    b = procedural_shapes("test", per_class=2, num_points=32, seed=3)
    assert all(torch.equal(x.pos, y.pos) for x, y in zip(a, b))
    valid = procedural_shapes("valid", per_class=2, num_points=32, seed=3)
    assert not torch.equal(a[0].pos, valid[0].pos)
    # two boxes differ in their proportions, not only in the sampled points
    boxes = [d.pos.double() for d in a if int(d.y) == list(SHAPE_CLASSES).index("box")]
    spread = [torch.linalg.eigvalsh(p.T @ p / p.shape[0]) for p in boxes]
    assert (spread[0] - spread[1]).abs().max() > 1e-3


def test_shape_classes_differ_in_shape():
    # the radial profile of a sphere is flat, that of a cross is not
    shapes = procedural_shapes("train", per_class=1, num_points=256)
    names = list(SHAPE_CLASSES)
    sphere, cross = shapes[names.index("sphere")].pos, shapes[names.index("cross")].pos
    assert float(sphere.norm(dim=1).std()) < 0.1 < float(cross.norm(dim=1).std())


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "dev"}, "split must be one of"),
    ({"per_class": 0}, "per_class must be a positive int"),
    ({"num_points": 2.5}, "num_points must be a positive int"),
])
def test_shape_set_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        procedural_shapes(**kwargs)
