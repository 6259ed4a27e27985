"""Persistence landscapes: exact values, E(3) invariance through Rips, gradients, bad input."""
import pytest
import torch

from topoequi.nn import PersistenceLandscape
from topoequi.topology import rips_diagram

pytestmark = pytest.mark.usefixtures("one_thread")   # tiny scatters crawl on two threads of a busy machine


def test_landscape_exact_values():
    layer = PersistenceLandscape(num_landscapes=3, resolution=5, sample_range=(0.0, 4.0))   # t = 0, 1, 2, 3, 4
    points = torch.tensor([[0.0, 4.0], [1.0, 3.0]], dtype=torch.float64)
    out = layer(points).view(3, 5)
    assert out[0].tolist() == [0.0, 1.0, 2.0, 1.0, 0.0]
    assert out[1].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert out[2].tolist() == [0.0] * 5                               # fewer points than landscapes


def test_rips_features_are_e3_invariant():
    """Rips diagrams see only distances: the landscape of a cloud is invariant under O(3) and translations."""
    from topoequi.symmetry import group_from_name
    from topoequi.testing import assert_equivariant

    group = group_from_name("O(3)")
    layer = PersistenceLandscape(3, 8, (0.0, 1.5))

    def features(pos):
        diagram = rips_diagram(pos, max_dim=1, engine="gudhi")
        return torch.cat([layer(*diagram[0]).view(-1), layer(*diagram[1]).view(-1)])

    pos = torch.randn(30, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    assert (features(pos)[24:] > 0).any()                               # H1 is seen too
    errors = assert_equivariant(features, [pos], ["pos"], group.trivial_rep(48), atol=1e-12)
    assert max(errors) < 1e-12


def test_landscape_gradcheck_through_rips(gradcheck_through_rips):
    torch.manual_seed(2)
    gradcheck_through_rips(PersistenceLandscape(2, 7, (0.05, 1.45)))


def test_landscape_bad_input():
    with pytest.raises(ValueError, match="PersistenceLandscape: sample_range"):
        PersistenceLandscape(2, 5, (1.0, 0.0))
    with pytest.raises(ValueError, match="points holds NaN"):
        PersistenceLandscape(2, 5, (0, 1))(torch.tensor([[0.0, float("inf")]]))
