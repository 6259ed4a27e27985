"""Pixelwise: a fiber layer applied at every pixel, equivariant on the grid, named errors."""
import pytest
import torch

from topoequi.nn import EquivariantBatchNorm, FourierNonlinearity, GatedNonlinearity
from topoequi.nn.invariant_projection import InvariantProjection
from topoequi.nn.pixelwise import Pixelwise
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_image_equivariant

pytestmark = pytest.mark.usefixtures("one_thread")


def test_every_pixel_is_one_fiber():
    rep = Rep(group_from_name("D4"), "2x0e+1x1")
    layer = InvariantProjection(rep)
    x = torch.randn(2, 4, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = Pixelwise(layer)(x)
    assert out.shape == (2, 3, 3, 5)
    assert torch.equal(out[1, :, 2, 4], layer(x[1, :, 2, 4][None])[0])
    flat = torch.randn(6, 4, dtype=torch.float64)
    assert torch.equal(Pixelwise(layer)(flat), layer(flat))           # no spatial axes: the layer itself


def test_pixelwise_gate_is_equivariant_on_the_grid():
    group = group_from_name("D4")
    gate = GatedNonlinearity(Rep(group, [(psi, 2) for psi in group.irreps()]))
    x = torch.randn(2, gate.in_rep.dim, 7, 7, generator=torch.Generator().manual_seed(1))
    assert assert_image_equivariant(Pixelwise(gate), x, gate.in_rep, gate.out_rep) < 1e-12


def test_bad_layers_and_inputs_are_named():
    with pytest.raises(TypeError, match="Pixelwise: layer must have in_rep and out_rep, got ReLU"):
        Pixelwise(torch.nn.ReLU())
    layer = Pixelwise(InvariantProjection(Rep(group_from_name("C4"), "3x0")))
    with pytest.raises(ValueError, match=r"Pixelwise: x must be \[B, 3, \.\.\.\]"):
        layer(torch.zeros(2, 4, 5, 5))


@pytest.mark.parametrize("name", ["D4", "C8", "O(2)"])
def test_pixelwise_batch_norm_and_nonlinearities(name, random_image):
    group = group_from_name(name)
    rep = group.regular_rep(None if group.is_finite else 2).repeat(2)
    x = random_image(rep)
    for layer in (EquivariantBatchNorm(rep), FourierNonlinearity(rep, "relu", adaptive=not group.is_finite)):
        assert assert_image_equivariant(Pixelwise(layer), x, rep, rep) < 1e-12
    gated = Pixelwise(GatedNonlinearity(rep))
    assert assert_image_equivariant(gated, random_image(gated.in_rep), gated.in_rep, rep) < 1e-12
    norm = Pixelwise(EquivariantBatchNorm(rep)).double()(x)
    assert torch.allclose(norm[:, 0].mean(), torch.zeros((), dtype=x.dtype), atol=1e-12)  # invariant centered
