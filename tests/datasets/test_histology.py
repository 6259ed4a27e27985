"""IHC patches from scikit-image's real immunohistochemistry image: grid, balanced stain labels, disjoint splits."""
import pytest
import torch

from topoequi.datasets.histology import IHCPatches, dab_density, ihc_image, ihc_patches
from topoequi.typing import WITH_SKIMAGE

pytestmark = pytest.mark.skipif(not WITH_SKIMAGE, reason="scikit-image is not installed")


def test_patches_labels_and_splits():
    image = ihc_image()
    assert image.shape == (512, 512, 3)
    train_x, train_y = ihc_patches(33, 16, "train")
    test_x, test_y = ihc_patches(33, 16, "test")
    # 14 rows x 30 columns of 33-pixel patches every 16 pixels inside each 256-row half
    assert train_x.shape == (14 * 30, 3, 33, 33) and test_x.shape == (14 * 30, 3, 33, 33)
    assert torch.equal(train_x[1], torch.from_numpy(image[:33, 16:49]).permute(2, 0, 1).float() / 255)
    assert torch.equal(test_x[0], torch.from_numpy(image[256:289, :33]).permute(2, 0, 1).float() / 255)
    # balanced over both splits (the threshold is the median), both classes in each split
    assert (train_y.sum() + test_y.sum()).item() == 420
    assert 0 < train_y.sum() < 420 and 0 < test_y.sum() < 420
    # the label is the mean DAB density of the central 11x11 square, which rotations leave unchanged
    dab = dab_density(image)
    scores = torch.stack([dab[r + 11:r + 22, c + 11:c + 22].mean() for r in range(0, 224, 16)
                          for c in range(0, 480, 16)])
    assert (scores[train_y == 1].min() > scores[train_y == 0].max()).item()


def test_dataset_and_errors():
    data = IHCPatches("test", size=33, stride=64)
    assert len(data) == 4 * 8 and data[0].image.shape == (1, 3, 33, 33)
    with pytest.raises(ValueError, match="IHCPatches: split must be 'train' or 'test'"):
        ihc_patches(split="valid")
    with pytest.raises(ValueError, match=r"IHCPatches: size must be an int in \[3, 256\], got 300"):
        ihc_patches(size=300)
