"""PersLay: permutation invariance, batches, gradients, bad input."""
import pytest
import torch

from topoequi.nn import PersLay

pytestmark = pytest.mark.usefixtures("one_thread")   # tiny scatters crawl on two threads of a busy machine


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


def test_perslay_gradcheck_through_rips(gradcheck_through_rips):
    torch.manual_seed(2)
    gradcheck_through_rips(PersLay(4, hidden_channels=8, aggr="sum").double())


def test_perslay_bad_input():
    with pytest.raises(ValueError, match="PersLay: aggr"):
        PersLay(4, aggr="median")
    with pytest.raises(ValueError, match="PersLay: points must be a floating-point tensor \\[P, 2\\]"):
        PersLay(4)(torch.zeros(3, 3))
