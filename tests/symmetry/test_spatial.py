"""Spatial groups: rotations from quaternions and axis-angle, super-Fibonacci grids, Wigner matrices."""
import math

import pytest
import torch

from topoequi.symmetry import SO3, group_from_name
from topoequi.symmetry.spatial import (
    axis_angle_to_matrix,
    quaternion_to_matrix,
    super_fibonacci_rotations,
    wigner_matrices,
)


def test_grids_are_deterministic_and_spread():
    grid = SO3().grid(64)
    assert torch.equal(grid, SO3().grid(64))
    assert bool(SO3().contains(grid).all())
    # nearly uniform: the mean of a grid's Wigner matrices (l >= 1) vanishes as for Haar samples
    for l in (1, 2):
        assert SO3().irrep(l).matrices(SO3().grid(512)).mean(0).abs().max() < 0.02


def test_quaternions_and_axis_angles_exact():
    quarter = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64),
                                   torch.tensor(math.pi / 2, dtype=torch.float64))
    assert torch.allclose(quarter, torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64),
                          atol=1e-15)
    assert torch.equal(quaternion_to_matrix(torch.tensor([2.0, 0, 0, 0])), torch.eye(3))   # normalised first
    q = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    r = quaternion_to_matrix(q)
    assert (r @ r.transpose(1, 2) - torch.eye(3, dtype=torch.float64)).abs().max() < 1e-14
    assert (torch.linalg.det(r) - 1).abs().max() < 1e-14
    assert (quaternion_to_matrix(-q) - r).abs().max() < 1e-15                         # q and -q: one rotation


def test_super_fibonacci_rotations_are_distinct_rotations():
    g = super_fibonacci_rotations(50, dtype=torch.float32)
    assert g.shape == (50, 3, 3) and g.dtype == torch.float32
    assert bool(SO3().contains(g.double(), atol=1e-5).all())
    gaps = torch.cdist(g.flatten(1), g.flatten(1)) + 10 * torch.eye(50)
    assert gaps.min() > 0.3                                           # evenly spread: no two close together


@pytest.mark.parametrize("name, order, reflections", [("O", 24, False), ("Oh", 48, True), ("C4@R3", 4, False),
                                                      ("D3@R3", 6, False), ("Ci", 2, True)])
def test_finite_spatial_groups_are_closed(name, order, reflections):
    group = group_from_name(name)
    g = group.elements()
    assert g.shape == (order, 3, 3) and group.has_reflections == reflections
    products = (g[:, None] @ g[None]).flatten(0, 1)
    assert bool(group.contains(products).all())
    assert bool((torch.linalg.det(g) < 0).any()) == reflections


def test_wigner_matrices_of_degree_one_are_the_rotations():
    g = SO3().sample(5, generator=torch.Generator().manual_seed(1))
    d1 = wigner_matrices(1, g)
    assert d1.shape == (5, 3, 3)
    assert (d1 - g).abs().max() < 1e-12                                  # real spherical-harmonics basis
    d2 = wigner_matrices(2, g)
    assert (wigner_matrices(2, g[:2] @ g[2:4]) - d2[:2] @ d2[2:4]).abs().max() < 1e-12
