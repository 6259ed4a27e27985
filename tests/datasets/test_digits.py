"""The embedded handwritten digits and their mixed-symmetry point clouds."""
import pytest
import torch

from topoequi.datasets.digits import (
    CHIRAL_DIGITS,
    digit_point_cloud,
    load_digits,
    mixed_symmetry_digits,
    split_indices,
)
from topoequi.symmetry import Dihedral


def test_embedded_file():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == torch.uint8 and int(images.max()) == 16
    assert torch.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    with pytest.raises(FileNotFoundError, match="make_digits.py"):
        load_digits("/nonexistent/digits.npz")


def test_point_cloud_of_one_image():
    image = torch.zeros(8, 8, dtype=torch.uint8)
    image[0, 0], image[0, 1], image[7, 7] = 16, 8, 4
    data = digit_point_cloud(image)
    assert data.pos.tolist() == [[-3.5, 3.5], [-2.5, 3.5], [3.5, -3.5]]
    assert data.x.flatten().tolist() == [1.0, 0.5, 0.25]
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 0)]  # only the neighbours


def test_mixed_symmetry_digits():
    data = mixed_symmetry_digits(seed=0)
    images, labels = load_digits()
    elements = Dihedral(4).elements(dtype=torch.float32)
    counts = torch.bincount(torch.cat([d.element for d in data]), minlength=8)
    assert int(counts.sum()) == 1797 and int(counts.min()) > 180  # every element of D4 is used
    assert sum(int(d.chiral) for d in data) == int(torch.isin(labels, torch.tensor(CHIRAL_DIGITS)).sum()) == 1080
    for d in data[:50]:
        g = elements[int(d.element)]
        plain = digit_point_cloud(images[int(d.index)])
        assert torch.allclose(d.pos, plain.pos @ g.T, atol=1e-6)
        assert torch.equal(d.pos * 2, torch.round(d.pos * 2))
        assert int(d.hand) == int(torch.linalg.det(g) < 0)
        assert int(d.y) == int(labels[int(d.index)])
        src, dst = d.edge_index
        dist = (d.pos[src] - d.pos[dst]).norm(dim=-1)
        assert bool((dist < 2.3).all())
        pairs = ((torch.cdist(d.pos, d.pos) < 2.3).sum() - d.num_nodes).item()
        assert d.num_edges == pairs


def test_split():
    split = split_indices(1797, 500, 300)
    assert [len(split[k]) for k in ("train", "valid", "test")] == [997, 300, 500]
    assert torch.equal(torch.sort(torch.cat(list(split.values()))).values, torch.arange(1797))
    with pytest.raises(ValueError, match="test \\+ valid < 10"):
        split_indices(10, 5, 5)


def test_limit_keeps_the_same_moves():
    full, head = mixed_symmetry_digits(seed=3)[:20], mixed_symmetry_digits(seed=3, limit=20)
    assert [int(d.element) for d in head] == [int(d.element) for d in full]
    assert all(torch.equal(a.pos, b.pos) for a, b in zip(head, full))
