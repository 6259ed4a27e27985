"""Fourier-slice projector against the exact projection of a Gaussian density; conventions, shifts, gradients."""
import pytest
import torch

from topoequi.cryoem.gaussians import gaussian_volume, project_gaussians
from topoequi.cryoem.projector import image_to_spectrum, project, spectrum_to_image
from topoequi.cryoem.rotations import axis_rotation, random_rotations
from topoequi.models.cryoem_pose_encoder import in_plane_rotation
from topoequi.symmetry import group_from_name
from topoequi.testing.image_equivariance import grid_elements, transform_image

SIZE = 32


@pytest.fixture(scope="module")
def blobs():
    gen = torch.Generator().manual_seed(0)
    direction = torch.randn(200, 3, generator=gen, dtype=torch.float64)
    radius = torch.rand(200, 1, generator=gen, dtype=torch.float64) ** (1 / 3) * 9
    centers = direction / direction.norm(dim=1, keepdim=True) * radius
    weights = torch.rand(200, generator=gen, dtype=torch.float64) + 0.5
    return centers, weights, 1.5


def relative_error(a, b):
    return float((a - b).norm() / b.norm())


def test_projector_matches_the_exact_projection(blobs):
    centers, weights, sigma = blobs
    volume = gaussian_volume(centers, weights, sigma, SIZE)
    rotations = random_rotations(6, torch.Generator().manual_seed(1))
    reference = project_gaussians(centers, weights, sigma, rotations, SIZE)
    assert relative_error(project(volume, rotations, pad=3.0), reference) < 1e-3  # measured 8.9e-4
    assert relative_error(project(volume, rotations), reference) < 5e-3  # pad 2: 3.5e-3
    assert relative_error(project(volume, rotations, interpolation="linear"), reference) < 0.05  # 3.7e-2
    identity = torch.eye(3, dtype=torch.float64)[None]
    assert relative_error(project(volume, identity), volume.sum(0)[None]) < 1e-8  # slices on grid nodes


def test_grid_symmetries_act_on_poses_by_diag_g_det_g(blobs):
    centers, weights, sigma = blobs
    volume = gaussian_volume(centers, weights, sigma, SIZE)
    r = random_rotations(2, torch.Generator().manual_seed(2))
    images = project(volume, r, pad=3.0)
    for g in grid_elements(group_from_name("D4")):
        q = torch.eye(3, dtype=torch.float64)
        q[:2, :2], q[2, 2] = g, torch.linalg.det(g)
        moved = transform_image(images[:, None], g)[:, 0]
        assert relative_error(project(volume, q @ r, pad=3.0), moved) < 2e-3
    assert torch.allclose(in_plane_rotation(1.0)[:2, :2], grid_elements(group_from_name("C4"))[1], atol=1e-12)


def test_shifts_translate_and_spectra_invert(blobs):
    centers, weights, sigma = blobs
    volume = gaussian_volume(centers, weights, sigma, SIZE)
    r = axis_rotation(torch.tensor([0.4], dtype=torch.float64), 0)
    shifts = torch.tensor([[3.0, -2.0]], dtype=torch.float64)
    moved = project(volume, r, shifts=shifts, pad=3.0)
    expected = project_gaussians(centers + torch.tensor([3.0, -2.0, 0.0], dtype=torch.float64) @ r[0],
                                 weights, sigma, r, SIZE)
    assert relative_error(moved, expected) < 1e-3
    image = torch.randn(2, SIZE, SIZE, dtype=torch.float64)
    assert (spectrum_to_image(image_to_spectrum(image)) - image).abs().max() < 1e-12


def test_projector_is_differentiable_in_volume_and_poses(blobs):
    centers, weights, sigma = blobs
    volume = gaussian_volume(centers, weights, sigma, 16).requires_grad_()
    angle = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    project(volume, axis_rotation(angle, 1)).square().sum().backward()
    assert volume.grad.abs().sum() > 0 and angle.grad.abs() > 0
    with pytest.raises(ValueError, match="volume must be a cubic"):
        project(torch.zeros(4, 4, 5), torch.eye(3)[None])
    with pytest.raises(ValueError, match="project: rotations must be"):
        project(torch.zeros(4, 4, 4), torch.eye(3))
