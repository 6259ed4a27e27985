"""Fixtures of the cryo-EM tests: the embedded density map and a small simulated stack of it."""
import pytest

from topoequi.cryoem.density_map import load_density_map
from topoequi.cryoem.simulate import simulate_stack


@pytest.fixture(scope="module")
def density():
    """``(volume [32, 32, 32], voxel size 2.5)``: the embedded map of adenylate kinase."""
    return load_density_map()


@pytest.fixture(scope="module")
def stack(density):
    """12 particles of the embedded map at SNR 0.5, seed 3."""
    volume, voxel = density
    return simulate_stack(volume, 12, voxel, snr=0.5, seed=3)
