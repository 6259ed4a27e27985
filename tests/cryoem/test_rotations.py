"""Rotations: Euler round trips, 6D Gram-Schmidt equivariance, geodesic distances, alignment up to handedness,
the concentration of viewing directions."""
import math

import pytest
import torch

from topoequi.cryoem.rotations import (
    align_rotations,
    axis_rotation,
    euler_to_matrix,
    geodesic_distance,
    gram_schmidt,
    matrix_to_euler,
    random_rotations,
    view_concentration,
)

GEN = torch.Generator().manual_seed(0)


def test_random_rotations_are_rotations():
    r = random_rotations(500, GEN)
    assert (r @ r.mT - torch.eye(3, dtype=r.dtype)).abs().max() < 1e-12
    assert (torch.linalg.det(r) - 1).abs().max() < 1e-12
    # Haar: the angle has density (1 - cos t) / pi, mean pi / 2 + 2 / pi = 2.2074
    assert abs(torch.deg2rad(geodesic_distance(r, torch.eye(3, dtype=r.dtype))).mean() - 2.2074) < 0.05


def test_euler_round_trip_and_relion_order():
    r = random_rotations(200, GEN)
    assert (euler_to_matrix(*matrix_to_euler(r)) - r).abs().max() < 1e-12
    for tilt in (0.0, 180.0):  # gimbal lock: everything goes into rot
        m = euler_to_matrix(torch.tensor(30.0), torch.tensor(tilt), torch.tensor(50.0))
        assert (euler_to_matrix(*matrix_to_euler(m)) - m).abs().max() < 1e-12
    rot, tilt, psi = torch.tensor(10.0), torch.tensor(20.0), torch.tensor(30.0)
    expected = axis_rotation(torch.deg2rad(psi).double(), 2) @ axis_rotation(torch.deg2rad(tilt).double(), 1) \
        @ axis_rotation(torch.deg2rad(rot).double(), 2)
    assert torch.allclose(euler_to_matrix(rot, tilt, psi), expected)
    # R_y(90) takes z to x (right-handed)
    assert torch.allclose(axis_rotation(torch.tensor(math.pi / 2, dtype=torch.float64), 1)
                          @ torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64),
                          torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-15)


def test_gram_schmidt_is_a_rotation_and_equivariant():
    six = torch.randn(50, 3, 2, generator=GEN, dtype=torch.float64)
    r = gram_schmidt(six)
    assert (r @ r.mT - torch.eye(3, dtype=r.dtype)).abs().max() < 1e-12
    assert (torch.linalg.det(r) - 1).abs().max() < 1e-12
    q = random_rotations(50, GEN)
    assert (gram_schmidt(q @ six) - q @ r).abs().max() < 1e-12
    assert torch.allclose(gram_schmidt(r[..., :2]), r)  # a rotation's first two columns give it back


def test_geodesic_distance_values():
    angle = torch.tensor([0.0, 0.3, 1.0, 3.0], dtype=torch.float64)
    r = axis_rotation(angle, 0)
    assert torch.allclose(geodesic_distance(r, torch.eye(3, dtype=r.dtype).expand_as(r)), torch.rad2deg(angle))


def test_alignment_recovers_rotation_and_mirror():
    true = random_rotations(300, GEN)
    a = random_rotations(1, GEN)[0]
    noise = axis_rotation(torch.randn(300, generator=GEN, dtype=torch.float64) * 0.01, 1)
    proper = align_rotations(noise @ true @ a, true)
    assert not proper.mirrored and torch.allclose(proper.matrix, a, atol=1e-3)
    assert proper.median < 1.0
    flip = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
    mirrored = align_rotations(flip @ true @ (-a), true)
    assert mirrored.mirrored and mirrored.median < 1e-4
    assert (mirrored.apply(true) - flip @ true @ (-a)).abs().max() < 1e-12
    unrelated = align_rotations(random_rotations(300, GEN), true)
    assert unrelated.median > 60  # no global map explains independent poses
    with pytest.raises(ValueError, match="align_rotations: predicted and true must both be"):
        align_rotations(true[:10], true)


def test_view_concentration_values():
    r = random_rotations(4000, GEN)
    assert abs(view_concentration(r) - 1 / 3) < 0.03  # uniform: E[v v^T] = I / 3
    # in-plane turns of one pose, and their mirrors: one viewing axis
    turns = axis_rotation(torch.rand(50, generator=GEN, dtype=torch.float64) * 6.3, 2)
    flips = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
    single = torch.cat([turns @ r[0], flips @ turns @ r[0]])
    assert view_concentration(single) == pytest.approx(1.0, abs=1e-12)
    # viewing directions spread over one great circle: 1/2
    circle = euler_to_matrix(torch.zeros(360), torch.full((360,), 90.0), torch.arange(360.0)).mT
    assert view_concentration(circle) == pytest.approx(0.5, abs=1e-9)
    # unchanged by a global alignment R -> R A
    assert view_concentration(r[:500] @ r[7]) == pytest.approx(view_concentration(r[:500]), abs=1e-12)
    with pytest.raises(ValueError, match="view_concentration: rotations must be"):
        view_concentration(torch.eye(3))
