"""PCam reader on small HDF5 files of the official layout written by the test; errors for wrong files."""
import numpy as np
import pytest
import torch

from topoequi.datasets.pcam import PCam, pcam_files, read_pcam
from topoequi.typing import WITH_H5PY

pytestmark = pytest.mark.skipif(not WITH_H5PY, reason="h5py is not installed")


def write_split(root, split, x, y, x_key="x", y_key="y"):
    import h5py

    x_name, y_name = pcam_files(split)
    with h5py.File(root / x_name, "w") as f:
        f.create_dataset(x_key, data=x)
    with h5py.File(root / y_name, "w") as f:
        f.create_dataset(y_key, data=y)


@pytest.fixture
def patches():
    gen = np.random.default_rng(0)
    x = gen.integers(0, 256, (5, 96, 96, 3), dtype=np.uint8)
    y = np.array([0, 1, 1, 0, 1], dtype=np.uint8).reshape(5, 1, 1, 1)
    return x, y


def test_reads_images_and_labels(tmp_path, patches):
    x, y = patches
    write_split(tmp_path, "valid", x, y)
    images, labels = read_pcam(tmp_path, "valid")
    assert images.dtype == torch.uint8 and torch.equal(images, torch.from_numpy(x))
    assert labels.tolist() == [0, 1, 1, 0, 1]
    assert read_pcam(tmp_path, "valid", limit=2)[1].tolist() == [0, 1]
    data = PCam(tmp_path, "valid", size=65)
    assert len(data) == 5 and data[1].y.item() == 1
    # channels first, the central 65x65 pixels (rows and columns 15..79), scaled to [0, 1]
    assert data[2].image.shape == (1, 3, 65, 65)
    assert torch.equal(data[2].image[0, 1, 0, 0] * 255, torch.tensor(float(x[2, 15, 15, 1])))
    assert torch.equal(data[2].image[0, :, -1, -1] * 255, torch.from_numpy(x[2, 79, 79]).float())


def test_errors_name_what_was_expected(tmp_path, patches):
    x, y = patches
    with pytest.raises(FileNotFoundError, match=r"PCam: no \['camelyonpatch_level_2_split_test_x.h5', "
                                                r"'camelyonpatch_level_2_split_test_y.h5'\] in"):
        read_pcam(tmp_path, "test")
    write_split(tmp_path, "train", x, y, x_key="images")
    with pytest.raises(ValueError, match=r"must hold the dataset 'x', found \['images'\]"):
        read_pcam(tmp_path, "train")
    write_split(tmp_path, "train", x[:, :64], y)
    with pytest.raises(ValueError, match=r"'x' in .* must be \[N, 96, 96, 3\] uint8, got \[5, 64, 96, 3\]"):
        read_pcam(tmp_path, "train")
    write_split(tmp_path, "train", x, y[:4])
    with pytest.raises(ValueError, match="got 5 uint8 images and 4 labels"):
        read_pcam(tmp_path, "train")
    write_split(tmp_path, "train", x, y + 1)
    with pytest.raises(ValueError, match="labels of camelyonpatch_level_2_split_train_y.h5 must be 0 or 1"):
        read_pcam(tmp_path, "train")
    with pytest.raises(ValueError, match="PCam: split must be one of"):
        read_pcam(tmp_path, "training")
