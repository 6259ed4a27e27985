"""PointNet++: batches never mix shapes; its samples depend on the point order; duplicate points refused."""
import pytest
import torch
from torch_geometric.data import Data

from topoequi.models.pointnet2 import PointNet2

pytestmark = pytest.mark.usefixtures("one_thread")


def test_logits_ignore_batch_neighbours_but_not_point_order(point_cloud_logits):
    torch.manual_seed(0)
    together, alone, permuted, rotated = point_cloud_logits(PointNet2(4, width=8).eval())
    assert torch.allclose(together[1], alone[0], atol=1e-5)
    assert not torch.allclose(permuted, alone, atol=1e-5)   # farthest-point samples start from the first point
    assert (rotated - alone).abs().max() > 1e-4             # absolute coordinates: a rotation changes the logits


def test_rejects_duplicate_points():
    pos = torch.randn(12, 3)
    pos[5] = pos[2]
    with pytest.raises(ValueError, match="PointNet2: 'pos' has duplicate points"):
        PointNet2(3, width=4)(Data(pos=pos))
