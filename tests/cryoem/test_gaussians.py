"""Gaussian mixtures: sampled values and layout, mass, chunking, and the exact projections."""
import math

import pytest
import torch

from topoequi.cryoem.gaussians import gaussian_volume, project_gaussians
from topoequi.cryoem.rotations import axis_rotation

SIGMA, SIZE = 1.5, 15


@pytest.fixture
def mixture():
    """Two atoms (voxel coordinates from the centre) of weights 2 and 1."""
    centers = torch.tensor([[2.0, 1.0, -1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    return centers, torch.tensor([2.0, 1.0], dtype=torch.float64)


def test_an_atom_at_the_centre_has_the_normal_density():
    volume = gaussian_volume(torch.zeros(1, 3, dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64),
                             SIGMA, SIZE)
    assert float(volume[7, 7, 7]) == pytest.approx(3.0 * (2 * math.pi * SIGMA**2) ** -1.5, rel=1e-14)
    assert float(volume[7, 7, 8]) == pytest.approx(float(volume[7, 7, 7]) * math.exp(-1 / (2 * SIGMA**2)),
                                                   rel=1e-14)


def test_layout_mass_and_chunks(mixture):
    centers, weights = mixture
    one = gaussian_volume(centers[:1], weights[:1], SIGMA, SIZE)
    # (x, y, z) = (2, 1, -1) lies at voxel (k, i, j) = (c + z, c - y, c + x) with c = 7
    assert tuple(int(i) for i in torch.unravel_index(one.argmax(), one.shape)) == (6, 6, 9)
    volume = gaussian_volume(centers, weights, SIGMA, SIZE)
    assert float(volume.sum()) == pytest.approx(3.0, abs=1e-3)  # unit mass per atom times the weights
    assert torch.allclose(gaussian_volume(centers, weights, SIGMA, SIZE, chunk=1), volume, rtol=0, atol=1e-15)


def test_projections_integrate_along_z_and_follow_the_rotation(mixture):
    centers, weights = mixture
    volume = gaussian_volume(centers, weights, SIGMA, SIZE)
    straight = project_gaussians(centers, weights, SIGMA, torch.eye(3, dtype=torch.float64)[None], SIZE)[0]
    assert torch.allclose(straight, volume.sum(0), rtol=0, atol=1e-5)  # the sum over voxels k (along z)
    # a quarter turn about z, (x, y) -> (-y, x), turns the image a quarter counterclockwise
    quarter = axis_rotation(torch.tensor([math.pi / 2], dtype=torch.float64), 2)
    turned = project_gaussians(centers, weights, SIGMA, quarter, SIZE)[0]
    assert torch.allclose(turned, torch.rot90(straight, 1, (0, 1)), rtol=0, atol=1e-15)
    assert not torch.allclose(turned, straight, atol=1e-3)
