"""Persistence images: exact pixels, batches, gradients, bad input."""
import pytest
import torch

from topoequi.nn import PersistenceImage

pytestmark = pytest.mark.usefixtures("one_thread")   # tiny scatters crawl on two threads of a busy machine


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


def test_persistence_image_gradcheck_through_rips(gradcheck_through_rips):
    torch.manual_seed(2)
    gradcheck_through_rips(PersistenceImage(4, (0.0, 1.5), (0.0, 1.5), sigma=0.3))


def test_persistence_image_bad_input():
    with pytest.raises(ValueError, match="PersistenceImage: resolution"):
        PersistenceImage(0, (0, 1), (0, 1), 0.1)
