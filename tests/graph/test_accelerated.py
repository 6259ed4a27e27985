"""Compiled radius / k-NN backends: results brought to the canonical order, or refused (None) when the
library's choice could differ from the pure-torch search; off when disabled or not installed."""
import torch

from topoequi.graph import accelerated
from topoequi.typing import WITH_PYG_LIB, WITH_TORCH_CLUSTER


def fake_backends(monkeypatch, radius_op=None, knn_op=None):
    monkeypatch.setattr(accelerated, "_pyg_lib_ops", lambda: (radius_op, knn_op))
    monkeypatch.setattr(accelerated, "_torch_cluster_ops", lambda: (None, None))


def shuffled(row, col, seed=0):
    perm = torch.randperm(len(row), generator=torch.Generator().manual_seed(seed))
    return torch.tensor(row)[perm], torch.tensor(col)[perm]


def test_backends_follow_installation_and_the_switch(monkeypatch):
    installed = WITH_PYG_LIB or WITH_TORCH_CLUSTER
    assert (accelerated.backends() != (None, None)) == installed
    fake_backends(monkeypatch, "radius", "knn")
    assert accelerated.backends() == ("radius", "knn")
    monkeypatch.setattr(accelerated, "ENABLED", False)
    assert accelerated.backends() == (None, None)
    x = torch.rand(4, 2)
    batch = torch.zeros(4, dtype=torch.long)
    assert accelerated.radius(x, x, 1.0, batch, batch, 3, False) is None


def test_radius_is_sorted_self_pairs_dropped_and_capped_rows_refused(monkeypatch):
    asked = []

    def radius_op(x, y, r, batch_x, batch_y, limit):
        asked.append(limit)
        return shuffled([1, 0, 1, 0, 2, 1], [2, 1, 1, 0, 2, 0])

    fake_backends(monkeypatch, radius_op=radius_op)
    x = torch.zeros(3, 2)
    batch = torch.zeros(3, dtype=torch.long)
    out = accelerated.radius(x, x, 1.0, batch, batch, cap=5, ignore_self=True)
    assert out.tolist() == [[0, 1, 1], [1, 0, 2]] and asked == [7]
    kept = accelerated.radius(x, x, 1.0, batch, batch, cap=3, ignore_self=False)
    assert kept.tolist() == [[0, 0, 1, 1, 1, 2], [0, 1, 0, 1, 2, 2]]
    assert accelerated.radius(x, x, 1.0, batch, batch, cap=2, ignore_self=False) is None   # row 1 has 3 > cap


def test_knn_orders_by_distance_then_index_and_refuses_ties(monkeypatch):
    x = torch.tensor([[0.0], [1.0], [3.0], [-1.0]])
    y = torch.tensor([[0.0]])
    batch_x, batch_y = torch.zeros(4, dtype=torch.long), torch.zeros(1, dtype=torch.long)

    def distance(col, row):
        return (x[col] - y[row]).pow(2).sum(1)

    fake_backends(monkeypatch, knn_op=lambda *args: shuffled([0, 0, 0, 0], [2, 1, 3, 0]))
    # distances 0 (col 0), 1 (cols 1 and 3: a tie), 9 (col 2)
    assert accelerated.knn(x, y, 1, batch_x, batch_y, False, False, distance).tolist() == [[0], [0]]
    assert accelerated.knn(x, y, 3, batch_x, batch_y, False, False, distance).tolist() == [[0, 0, 0], [0, 1, 3]]
    assert accelerated.knn(x, y, 2, batch_x, batch_y, False, False, distance) is None   # tie at the k-th
    asked = []

    def knn_op(x_, y_, k, batch_x_, batch_y_, cosine):
        asked.append((k, cosine))
        return shuffled([0, 0, 0], [0, 1, 2])

    fake_backends(monkeypatch, knn_op=knn_op)
    assert accelerated.knn(x, y, 1, batch_x, batch_y, True, True, distance).tolist() == [[0], [1]]
    assert asked == [(3, True)]                                     # k + 1, one more for the dropped self pair
