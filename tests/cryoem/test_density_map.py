"""The embedded density map and maps read from .npz files: values, and errors naming the file and field."""
import numpy as np
import pytest
import torch

from topoequi.cryoem.density_map import EMBEDDED_MAP, load_density_map


def test_embedded_map(density):
    volume, voxel = density
    assert volume.shape == (32, 32, 32) and voxel == 2.5
    assert float(volume.max()) == pytest.approx(1.0)
    assert float(volume.min()) >= 0.0
    border = torch.cat([volume[0].flatten(), volume[-1].flatten(), volume[:, 0].flatten(), volume[:, :, -1].flatten()])
    assert float(border.max()) < 1e-3  # the molecule fits in its box


def test_reads_a_given_npz_file(tmp_path):
    volume = np.arange(27, dtype=np.float64).reshape(3, 3, 3)
    np.savez(tmp_path / "map.npz", volume=volume, voxel_size=1.5)
    loaded, voxel = load_density_map(tmp_path / "map.npz")
    assert loaded.dtype == torch.float32 and voxel == 1.5
    assert torch.equal(loaded, torch.arange(27, dtype=torch.float32).reshape(3, 3, 3))
    assert torch.equal(load_density_map(EMBEDDED_MAP)[0], load_density_map()[0])


def test_bad_maps_name_the_file_and_field(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_density_map: .*absent.npz does not exist"):
        load_density_map(tmp_path / "absent.npz")
    np.savez(tmp_path / "novoxel.npz", volume=np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match=r"novoxel.npz lacks the field\(s\) voxel_size"):
        load_density_map(tmp_path / "novoxel.npz")
    np.savez(tmp_path / "empty.npz", other=np.zeros(1))
    with pytest.raises(ValueError, match=r"empty.npz lacks the field\(s\) volume, voxel_size"):
        load_density_map(tmp_path / "empty.npz")
    np.savez(tmp_path / "flat.npz", volume=np.zeros((4, 4, 5)), voxel_size=1.0)
    with pytest.raises(ValueError, match=r"flat.npz field volume must be cubic \[N, N, N\], got \[4, 4, 5\]"):
        load_density_map(tmp_path / "flat.npz")
    np.savez(tmp_path / "plane.npz", volume=np.zeros((4, 4)), voxel_size=1.0)
    with pytest.raises(ValueError, match=r"plane.npz field volume must be cubic \[N, N, N\], got \[4, 4\]"):
        load_density_map(tmp_path / "plane.npz")
