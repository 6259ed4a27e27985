"""Equivariance on pixel grids: the grid symmetries of a group, exact pixel moves and fiber turns,
interpolated rotations, and the assertion failing on a function that is not equivariant."""
import math

import pytest
import torch

from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_image_equivariant, grid_elements, image_equivariance_error, transform_image


@pytest.mark.parametrize("name, count", [("D4", 8), ("C4", 4), ("C8", 4), ("D1", 2), ("C3", 1), ("O(2)", 8)])
def test_grid_elements(name, count):
    g = grid_elements(group_from_name(name))
    assert g.shape == (count, 2, 2) and g.dtype == torch.float64
    assert torch.equal(g, g.round()) and torch.equal(g[0], torch.eye(2, dtype=torch.float64))


def test_quarter_turns_and_flips_move_pixels_exactly():
    x = torch.arange(2 * 16, dtype=torch.float64).view(1, 2, 4, 4)
    quarter, _, _, _, flip = grid_elements(group_from_name("D4"))[[1, 2, 3, 0, 4]]
    assert torch.equal(transform_image(x, quarter), torch.rot90(x, 1, (-2, -1)))    # counter-clockwise
    assert torch.equal(transform_image(x, flip), torch.flip(x, (-2,)))               # y -> -y flips the rows
    vector = Rep(group_from_name("D4"), "1x1")                                        # turn the fibers too
    turned = transform_image(x, quarter, vector)
    assert torch.allclose(turned[:, 0], -torch.rot90(x[:, 1], 1, (-2, -1)), atol=1e-12)
    assert torch.allclose(turned[:, 1], torch.rot90(x[:, 0], 1, (-2, -1)), atol=1e-12)


def test_other_rotations_interpolate_about_the_centre():
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 1.0
    eighth = group_from_name("SO(2)").from_angle(torch.tensor([math.pi / 4], dtype=torch.float64))[0]
    out = transform_image(x, eighth)
    assert out[0, 0, 2, 2].item() == pytest.approx(1.0)                     # the centre stays put
    assert torch.allclose(out, torch.rot90(out, 1, (-2, -1)), atol=1e-15)   # a centred delta stays D4-symmetric
    assert out[0, 0, 0].abs().max() == 0 and out[0, 0, 2, 0].item() == 0      # nothing reaches the rim
    with pytest.raises(ValueError, match=r"transform_image: x must be \[B, C, H, W\] with H = W"):
        transform_image(torch.zeros(1, 1, 4, 5), eighth)
    with pytest.raises(ValueError, match="transform_image: rep .* has dimension 2, x has 1 channels"):
        transform_image(x, eighth, Rep(group_from_name("SO(2)"), "1x1"))


def test_the_assertion_passes_on_equivariant_and_fails_on_other_functions():
    group = group_from_name("D4")
    trivial = group.trivial_rep(1)
    x = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    assert assert_image_equivariant(torch.relu, x, trivial, trivial) == 0.0
    blur = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        blur.weight.copy_(torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)   # a D4-symmetric stencil
    assert assert_image_equivariant(blur, x, trivial, trivial) < 1e-15
    with torch.no_grad():
        blur.weight[0, 0, 0, 0] = 1.0                                                # no longer symmetric
    assert image_equivariance_error(blur, x, trivial, trivial) > 1e-2
    with pytest.raises(AssertionError, match="not equivariant on the image grid"):
        assert_image_equivariant(blur, x, trivial, trivial)
    shift = image_equivariance_error(lambda t: torch.roll(t, 1, -1), x, trivial, trivial, crop=1)
    assert shift > 1e-2
