"""Total persistence and Wasserstein losses: exact values, gudhi, gradients, descent."""
import pytest
import torch

from topoequi.nn import TopologicalLoss
from topoequi.nn.topological_loss import total_persistence, wasserstein_distance
from topoequi.topology import rips_diagram
from topoequi.typing import WITH_POT

pytestmark = pytest.mark.usefixtures("one_thread")   # tiny scatters crawl on two threads of a busy machine


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


def test_total_persistence_descent_shrinks_loops(circle):
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


@pytest.mark.parametrize("target", [None, [[0.3, 1.2]]], ids=["total", "wasserstein"])
def test_topological_loss_gradcheck_through_rips(target, gradcheck_through_rips):
    torch.manual_seed(2)
    target = None if target is None else torch.tensor(target, dtype=torch.float64)
    gradcheck_through_rips(TopologicalLoss(p=2, target=target))
