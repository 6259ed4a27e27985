"""InvariantProjection: invariants kept, other irrep copies to their smoothed norms, in any basis."""
import math

import pytest
import torch

from topoequi.nn.invariant_projection import InvariantProjection
from topoequi.nn.pixelwise import Pixelwise
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant
from topoequi.testing.image_equivariance import assert_image_equivariant

pytestmark = pytest.mark.usefixtures("one_thread")


def test_exact_values():
    group = group_from_name("SO(3)")
    rep = Rep(group, [(group.irrep(0), 2), (group.irrep(1), 1)])
    layer = InvariantProjection(rep, eps=1e-3)
    x = torch.tensor([[-1.5, 2.0, 3.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    out = layer(x)
    assert out[0, :2].tolist() == [-1.5, 2.0]                          # invariants as they are
    assert out[0, 2].item() == pytest.approx(math.sqrt(25 + 1e-6) - 1e-3, abs=1e-15)
    assert out[1].tolist() == [0.0, 0.0, 0.0]                          # smooth at zero
    assert layer.out_rep == group.trivial_rep(3)


@pytest.mark.parametrize("name", ["SO(2)@R3", "O(3)", "D4", "O"])
def test_invariant_in_any_basis(name):
    group = group_from_name(name)
    rep = group.standard_rep + Rep(group, [(psi, 2) for psi in group.irreps(None if group.is_finite else 2)[:3]])
    layer = InvariantProjection(rep)
    x = torch.randn(5, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert assert_equivariant(layer, [x])[0] < 1e-12
    assert layer(x).shape == (5, layer.out_rep.dim)


def test_bad_width_is_named():
    layer = InvariantProjection(Rep(group_from_name("C4"), "2x0"))
    with pytest.raises(ValueError, match="InvariantProjection: x"):
        layer(torch.zeros(3, 5))


def test_invariant_projection(random_image):
    group = group_from_name("O(2)")
    rep = group.standard_rep + group.trivial_rep(2) + Rep(group, [group.irrep(1, 2)])
    proj = Pixelwise(InvariantProjection(rep))
    x = random_image(rep)
    assert proj.out_rep.dim == 4
    assert assert_image_equivariant(proj, x, rep, proj.out_rep) < 1e-12
    v = rep.to_irreps_basis(x[0, :, 3, 3])
    assert torch.allclose(proj(x)[0, :, 3, 3], torch.stack([v[:2].norm(), v[2], v[3], v[4:].norm()]), atol=1e-6)
