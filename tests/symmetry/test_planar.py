"""Planar groups: textbook irreps, elements from angles and flips, grids."""
import math

import pytest
import torch

from topoequi.symmetry import Cyclic, Dihedral, group_from_name
from topoequi.symmetry.group import planar_angle_and_flip, rotation_2d, round_to_multiple


def test_planar_irreps_are_the_textbook_ones():
    theta = torch.tensor([0.3], dtype=torch.float64)
    g = group_from_name("O(2)").from_angle(theta, torch.tensor([1]))
    expected = torch.tensor([[math.cos(0.6), math.sin(0.6)], [math.sin(0.6), -math.cos(0.6)]],
                            dtype=torch.float64)
    assert torch.allclose(group_from_name("O(2)").irrep(1, 2).matrices(g)[0], expected, atol=1e-15)
    assert group_from_name("O(2)").irrep(1, 0).matrices(g).item() == -1.0
    c6 = Cyclic(6).elements()
    assert torch.equal(Cyclic(6).irrep(3).matrices(c6).flatten(), torch.tensor([1.0, -1, 1, -1, 1, -1],
                                                                             dtype=torch.float64))


def test_planar_grids_and_their_bad_sizes():
    o2 = group_from_name("O(2)").grid(8)
    assert int((torch.linalg.det(o2) < 0).sum()) == 4
    theta, flip = planar_angle_and_flip(o2)
    assert flip.tolist() == [0.0] * 4 + [1.0] * 4
    assert torch.allclose(theta[:4], torch.tensor([0, 0.5, 1, -0.5], dtype=torch.float64) * math.pi, atol=1e-15)
    assert torch.equal(Dihedral(4).grid(8), Dihedral(4).elements())
    with pytest.raises(ValueError, match="even"):
        group_from_name("O(2)").grid(7)
    with pytest.raises(ValueError, match="all its 8 elements"):
        Dihedral(4).grid(5)


def test_angles_flips_and_rounding_round_trip():
    theta = torch.tensor([0.0, 1.0, -2.5, 3.0], dtype=torch.float64)
    flip = torch.tensor([0, 1, 1, 0])
    g = group_from_name("O(2)").from_angle(theta, flip)
    assert torch.equal(g[0], torch.eye(2, dtype=torch.float64))
    assert torch.allclose(g[1], rotation_2d(theta[1]) @ torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64)))
    back, s = planar_angle_and_flip(g)
    assert torch.allclose(back, theta, atol=1e-15) and s.tolist() == [0.0, 1.0, 1.0, 0.0]
    steps = torch.tensor([0.0, 2 * math.pi / 6 * 5 + 1e-9, -2 * math.pi / 6, 2 * math.pi], dtype=torch.float64)
    assert round_to_multiple(steps, 6).tolist() == [0, 5, 5, 0]


def test_cyclic_and_dihedral_elements():
    c4 = Cyclic(4).elements()
    assert torch.allclose(c4[1], torch.tensor([[0.0, -1], [1, 0]], dtype=torch.float64), atol=1e-15)
    d3 = Dihedral(3)
    assert d3.order == 6 and bool(d3.contains(d3.reflection()).all()) and Cyclic(3).reflection() is None
    assert not bool(Cyclic(3).contains(d3.elements()[3:]).any())             # reflections are not in C3
