"""RotatedMNIST from the embedded real digits, the rotation convention, and the MNIST-rot .amat reader."""
import math

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from topoequi.datasets.rotated_mnist import MNISTRot, RotatedMNIST, load_mnist_sample, rotate_images
from topoequi.symmetry import group_from_name
from topoequi.testing.image_equivariance import transform_image


def test_embedded_sample_is_real_mnist():
    images, labels = load_mnist_sample()
    assert images.shape == (5000, 28, 28) and images.dtype == torch.uint8
    assert torch.bincount(labels).tolist() == [500] * 10
    assert int(images.max()) == 255 and 0.1 < (images > 0).float().mean() < 0.25  # ink on ~19% of pixels
    ink = images.double().sum(0)
    rows = (ink.sum(1) * torch.arange(28)).sum() / ink.sum()
    assert abs(float(rows) - 14) < 0.5  # digits centred by their centre of mass, as MNIST's


def test_splits_angles_and_batching():
    train, valid, test = (RotatedMNIST(s, limit=None if s != "train" else 200) for s in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (200, 500, 1000)
    again = RotatedMNIST("train", limit=200)
    assert torch.equal(again[5].image, train[5].image)
    other = RotatedMNIST("train", seed=1, limit=200)
    assert not torch.equal(other[5].image, train[5].image) and other[5].y == train[5].y
    angles = torch.cat([d.angle for d in test])
    assert 0 <= angles.min() and angles.max() < 2 * math.pi and abs(float(angles.mean()) - math.pi) < 0.25
    batch = next(iter(DataLoader(train, batch_size=16)))
    assert batch.image.shape == (16, 1, 28, 28) and batch.y.shape == (16,) and batch.num_graphs == 16
    mirrored = RotatedMNIST("valid", reflections=True)
    assert 200 < int(torch.cat([d.flip for d in mirrored]).sum()) < 300


def test_rotation_follows_the_image_convention():
    images = torch.rand(3, 9, 9)
    group = group_from_name("O(2)")
    angles = torch.tensor([math.pi / 2, 0.7, 2.0], dtype=torch.float64)
    flips = torch.tensor([1, 0, 1])
    moved = rotate_images(images, angles, flips)
    for i in range(3):
        g = group.from_angle(angles[i:i + 1], flips[i:i + 1])[0]
        expected = transform_image(images[i][None, None].double(), g)[0, 0].float()
        assert torch.allclose(moved[i], expected, atol=1e-5)
    g = group.from_angle(angles[:1], flips[:1])[0].round()  # exact on the grid
    assert torch.allclose(moved[0], transform_image(images[:1, None], g)[0, 0], atol=1e-6)


def test_amat_reader(tmp_path):
    rows = np.concatenate([np.random.default_rng(0).random((4, 784)), np.array([[3], [1], [4], [1]])], 1)
    np.savetxt(tmp_path / "mnist_all_rotation_normalized_float_train_valid.amat", rows)
    data = MNISTRot(tmp_path, "train")
    assert len(data) == 4 and data[2].y.item() == 4 and data[0].image.shape == (1, 1, 28, 28)
    assert torch.allclose(data[1].image.flatten().double(), torch.from_numpy(rows[1, :784]), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="MNISTRot: no 'mnist_all_rotation_normalized_float_test.amat'"):
        MNISTRot(tmp_path, "test")
    with pytest.raises(ValueError, match="RotatedMNIST: split must be one of"):
        RotatedMNIST("validation")
