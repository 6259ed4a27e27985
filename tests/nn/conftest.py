"""Fixtures shared by the layer tests."""
import pytest
import torch

from topoequi.symmetry import Rep, group_from_name

LAYER_GROUPS = ["SO(2)", "O(2)", "C5", "D4", "SO(3)", "O(3)", "SO(2)@R3", "O", "Ci"]


def _reps_for(group, m_in=2, m_out=3) -> tuple[Rep, Rep]:
    irreps = group.irreps(None if group.is_finite else 2)[:4]
    rep_in = Rep(group, [(p, m_in) for p in irreps]) + group.standard_rep
    rep_out = group.standard_rep + Rep(group, [(p, m_out) for p in irreps])
    return rep_in, rep_out


@pytest.fixture
def reps_for():
    """``reps_for(group, m_in=2, m_out=3)``: an input and an output representation of ``group`` mixing its
    first irreps with its standard representation (in a change of basis where the group has one)."""
    return _reps_for


@pytest.fixture(params=LAYER_GROUPS)
def layer_group(request):
    """Groups of every kind a layer is tested on: planar and spatial, finite and continuous."""
    return group_from_name(request.param)


def _circle(n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    angle = torch.rand(n, generator=gen, dtype=torch.float64) * 6.283
    return torch.stack([angle.cos(), angle.sin()], 1) + 0.2 * torch.randn(n, 2, generator=gen, dtype=torch.float64)


@pytest.fixture
def circle():
    """``circle(n, seed)``: ``n`` noisy float64 points on the unit circle, a cloud with one loop."""
    return _circle


def _gradcheck_through_rips(layer) -> None:
    from topoequi.topology import rips_diagram

    def features(pos):
        diagram = rips_diagram(pos, torch.tensor([0] * 14 + [1] * 12), max_dim=1, engine="gudhi")
        return layer(*diagram[1], num_graphs=2)

    pos = torch.cat([_circle(14, 3), 0.7 * _circle(12, 4)]).requires_grad_(True)
    assert features(pos).abs().sum().item() > 0
    assert torch.autograd.gradcheck(features, (pos,), eps=1e-6, atol=1e-6)


@pytest.fixture
def gradcheck_through_rips():
    """``gradcheck_through_rips(layer)``: finite differences of ``layer`` on the H1 diagrams of two noisy
    circles, through the Rips filtration, against autograd."""
    return _gradcheck_through_rips


def _random_image(rep: Rep, size: int = 7, seed: int = 0) -> torch.Tensor:
    return torch.randn(2, rep.dim, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.fixture(scope="session")
def random_image():
    """``random_image(rep, size=7, seed=0)``: a seeded float64 field ``[2, rep.dim, size, size]``."""
    return _random_image
