"""SteerableConv: the analytic kernel basis (Gaussian rings times harmonics), fixed or learned rings."""
import pytest
import torch

from topoequi.nn import SteerableConv
from topoequi.symmetry import group_from_name
from topoequi.testing import assert_equivariant


def test_scalar_kernels_are_radial_profiles():
    # trivial -> trivial under O(3): only the l = 0 harmonic enters, so one edge of length r gives the
    # same message from every direction, and that message is a sum of Gaussian rings of r
    o3 = group_from_name("O(3)")
    torch.manual_seed(0)
    conv = SteerableConv(o3.trivial_rep(), o3.trivial_rep(), cutoff=3.0, num_radial=4, bias=False).double()
    x, edge_index = torch.tensor([[0.0], [1.0]], dtype=torch.float64), torch.tensor([[1], [0]])
    directions = torch.nn.functional.normalize(torch.randn(6, 3, dtype=torch.float64), dim=1)
    out = torch.stack([conv(x, torch.stack([torch.zeros(3, dtype=torch.float64), 1.3 * u]), edge_index)[0]
                       for u in directions])
    assert (out - out[0]).abs().max() < 1e-14 and out.abs().max() > 1e-3
    conv.bilinear.reset_parameters()  # a different combination of the rings: a different value
    moved = conv(x, torch.stack([torch.zeros(3, dtype=torch.float64), 1.3 * directions[0]]), edge_index)[0]
    assert (moved - out[0]).abs().max() > 1e-6


@pytest.mark.parametrize("learnable", [False, True])
def test_rings_are_learned_only_when_asked_for(learnable):
    d4 = group_from_name("D4")
    conv = SteerableConv(d4.regular_rep(), d4.regular_rep(), cutoff=2.0, learnable_radial=learnable).double()
    names = {name for name, _ in conv.named_parameters()}
    assert {"radial.centers", "radial.log_width"} <= names if learnable else not names & {"radial.centers"}
    gen = torch.Generator().manual_seed(1)
    pos = torch.randn(8, 2, generator=gen, dtype=torch.float64)
    x = torch.randn(8, d4.regular_rep().dim, generator=gen, dtype=torch.float64)
    edge_index = torch.randint(8, (2, 20), generator=gen)
    errors = assert_equivariant(conv, [x, pos, edge_index])
    assert max(errors) < 1e-12
    conv(x, pos, edge_index).square().sum().backward()
    if learnable:
        assert conv.radial.centers.grad.abs().max() > 0
