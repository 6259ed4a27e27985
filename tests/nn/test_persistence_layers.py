"""Diagram vectorisations and topological losses: exact values, invariances, finite differences."""

import pytest
import torch

from topoequi.nn import PersistenceImage, PersistenceLandscape, PersLay, TopologicalLoss
from topoequi.nn.topological_loss import total_persistence, wasserstein_distance
from topoequi.topology import rips_diagram
from topoequi.typing import WITH_POT

pytestmark = pytest.mark.usefixtures("one_thread")   # tiny scatters crawl on two threads of a busy machine


def circle(n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    angle = torch.rand(n, generator=gen, dtype=torch.float64) * 6.283
    return torch.stack([angle.cos(), angle.sin()], 1) + 0.2 * torch.randn(n, 2, generator=gen, dtype=torch.float64)


def test_persistence_image_exact_pixel_and_batch():
    layer = PersistenceImage(resolution=4, birth_range=(0.0, 2.0), persistence_range=(0.0, 2.0), sigma=0.3)
    points = torch.tensor([[0.25, 1.0], [1.75, 2.5]], dtype=torch.float64)   # (b, p) = (0.25, 0.75), (1.75, 0.75)
    out = layer(points, torch.tensor([0, 2]), num_graphs=3).view(3, 4, 4)
    assert out[0, 0, 1].item() == pytest.approx(0.75)                 # on a pixel centre: the weight p
    assert out[2, 3, 1].item() == pytest.approx(0.75)
    assert out[1].abs().max().item() == 0.0                           # an empty diagram gives zeros
    assert layer(points[:0], num_graphs=2).tolist() == [[0.0] * 16] * 2
    expected = 0.75 * torch.exp(torch.tensor(-0.5 * (0.5 / 0.3) ** 2, dtype=torch.float64))
    assert out[0, 1, 1].item() == pytest.approx(expected.item())      # one pixel away along the birth axis


def test_landscape_exact_values():
    layer = PersistenceLandscape(num_landscapes=3, resolution=5, sample_range=(0.0, 4.0))   # t = 0, 1, 2, 3, 4
    points = torch.tensor([[0.0, 4.0], [1.0, 3.0]], dtype=torch.float64)
    out = layer(points).view(3, 5)
    assert out[0].tolist() == [0.0, 1.0, 2.0, 1.0, 0.0]
    assert out[1].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert out[2].tolist() == [0.0] * 5                               # fewer points than landscapes


def test_perslay_is_permutation_invariant_and_batches():
    torch.manual_seed(0)
    layer = PersLay(8, hidden_channels=16, aggr="sum").double()
    points = torch.rand(10, 2, dtype=torch.float64).cumsum(1)
    batch = torch.tensor([0] * 6 + [1] * 4)
    out = layer(points, batch)
    perm = torch.cat([torch.randperm(6), 6 + torch.randperm(4)])
    assert torch.allclose(layer(points[perm], batch), out, atol=1e-14)
    assert torch.allclose(layer(points[6:]), out[1:], atol=1e-14)
    assert layer(points[:0], batch[:0], num_graphs=2).abs().max().item() == 0.0
    assert "aggr='sum'" in repr(layer)


def test_total_persistence_and_wasserstein_exact():
    points = torch.tensor([[0.0, 2.0], [1.0, 1.5], [0.5, 3.5]], dtype=torch.float64)
    assert total_persistence(points, torch.tensor([0, 0, 1]), p=2).tolist() == [4.25, 9.0]
    x, y = torch.tensor([[0.0, 2.0]]), torch.tensor([[0.0, 3.0]])
    assert wasserstein_distance(x, y, p=2).item() == pytest.approx(1.0)       # matched: |3 - 2|_inf
    assert wasserstein_distance(x, y[:0], p=2).item() == pytest.approx(1.0)   # to the diagonal: 2 / 2
    assert TopologicalLoss(p=1)(points, torch.tensor([0, 0, 1])).item() == pytest.approx((2.5 + 3.0) / 2)


@pytest.mark.slow                                      # importing POT takes seconds
@pytest.mark.skipif(not WITH_POT, reason="POT (gudhi.wasserstein's backend) not installed")
def test_wasserstein_matches_gudhi():
    from gudhi.wasserstein import wasserstein_distance as gudhi_wasserstein

    gen = torch.Generator().manual_seed(1)
    x = torch.rand(7, 2, generator=gen, dtype=torch.float64).cumsum(1)
    y = torch.rand(5, 2, generator=gen, dtype=torch.float64).cumsum(1)
    for p in (1.0, 2.0):
        ref = gudhi_wasserstein(x.numpy(), y.numpy(), order=p, internal_p=float("inf"))
        assert wasserstein_distance(x, y, p).item() == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("head", ["image", "landscape", "perslay", "total", "wasserstein"])
def test_vectorisations_gradcheck_through_rips(head):
    torch.manual_seed(2)
    target = torch.tensor([[0.3, 1.2]], dtype=torch.float64)
    heads = {
        "image": PersistenceImage(4, (0.0, 1.5), (0.0, 1.5), sigma=0.3),
        "landscape": PersistenceLandscape(2, 7, (0.05, 1.45)),
        "perslay": PersLay(4, hidden_channels=8, aggr="sum").double(),
        "total": TopologicalLoss(p=2),
        "wasserstein": TopologicalLoss(p=2, target=target),
    }
    layer = heads[head]

    def features(pos):
        diagram = rips_diagram(pos, torch.tensor([0] * 14 + [1] * 12), max_dim=1, engine="gudhi")
        return layer(*diagram[1], num_graphs=2)

    pos = torch.cat([circle(14, 3), 0.7 * circle(12, 4)]).requires_grad_(True)
    assert features(pos).abs().sum().item() > 0
    assert torch.autograd.gradcheck(features, (pos,), eps=1e-6, atol=1e-6)


def test_total_persistence_descent_shrinks_loops():
    pos = circle(20, 5).requires_grad_(True)
    loss_fn, opt = TopologicalLoss(p=1), torch.optim.SGD([pos], lr=0.05)
    losses = []
    for _ in range(20):
        loss = loss_fn(*rips_diagram(pos, max_dim=1, engine="gudhi")[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="PersistenceImage: resolution"):
        PersistenceImage(0, (0, 1), (0, 1), 0.1)
    with pytest.raises(ValueError, match="PersistenceLandscape: sample_range"):
        PersistenceLandscape(2, 5, (1.0, 0.0))
    with pytest.raises(ValueError, match="PersLay: aggr"):
        PersLay(4, aggr="median")
    with pytest.raises(ValueError, match="PersLay: points must be a floating-point tensor \\[P, 2\\]"):
        PersLay(4)(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="points holds NaN"):
        PersistenceLandscape(2, 5, (0, 1))(torch.tensor([[0.0, float("inf")]]))


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
