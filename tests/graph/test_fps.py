import math

import pytest
import torch

from topoequi.graph.fps import check_point_cloud, fps


def reference_fps(x, batch, ratio):
    """One example at a time, plain Python loop: first point, then the farthest from the chosen."""
    out = []
    for b in batch.unique().tolist():
        members = (batch == b).nonzero().view(-1)
        points = x[members]
        chosen = [0]
        nearest = (points - points[0]).pow(2).sum(1)
        while len(chosen) < math.ceil(ratio * len(members)):
            nxt = int(torch.argmax(nearest))
            chosen.append(nxt)
            nearest = torch.minimum(nearest, (points - points[nxt]).pow(2).sum(1))
        out += members[chosen].tolist()
    return out


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.5, 1.0])
def test_fps_matches_reference(ratio):
    gen = torch.Generator().manual_seed(0)
    sizes = [7, 30, 1, 18]
    x = torch.randn(sum(sizes), 3, generator=gen, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    got = fps(x, batch, ratio=ratio)
    assert got.tolist() == reference_fps(x, batch, ratio)
    counts = torch.bincount(batch[got], minlength=len(sizes)).tolist()
    assert counts == [math.ceil(ratio * n) for n in sizes]


def test_fps_spreads_points_and_num():
    # two tight clusters far apart: the second sample must come from the other cluster
    x = torch.cat([torch.randn(20, 3) * 0.01, torch.randn(20, 3) * 0.01 + 10.0])
    idx = fps(x, num=2, ratio=None)
    assert idx[0] == 0 and idx[1] >= 20


def test_fps_commutes_with_rotations_and_translations():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 3, generator=gen, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    moved = x @ q.T + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert torch.equal(fps(x, ratio=0.25), fps(moved, ratio=0.25))


def test_fps_random_start_is_seeded():
    x = torch.randn(50, 3)
    a = fps(x, ratio=0.2, random_start=True, generator=torch.Generator().manual_seed(3))
    b = fps(x, ratio=0.2, random_start=True, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.numel() == 10 and a.unique().numel() == 10


@pytest.mark.parametrize("kwargs, message", [
    ({"ratio": 0.0}, "'ratio' must be a number in (0, 1]"),
    ({"ratio": 0.5, "num": 3}, "exactly one of 'ratio' and 'num'"),
    ({"ratio": None, "num": 11}, "example 0 has 10 points, fewer than num=11"),
])
def test_fps_bad_input(kwargs, message):
    with pytest.raises(ValueError) as err:
        fps(torch.randn(10, 3), **kwargs)
    assert message in str(err.value)


def test_fps_rejects_nan():
    with pytest.raises(ValueError, match="fps: 'x' contains NaN"):
        fps(torch.tensor([[0.0, float("nan"), 0.0], [1.0, 0.0, 0.0]]))


def test_check_point_cloud():
    pos = torch.randn(6, 3)
    batch = torch.tensor([0, 0, 0, 1, 1, 1])
    check_point_cloud("Model", pos, batch, min_points=3)
    with pytest.raises(ValueError, match="Model: example 0 has 3 points, fewer than the 4"):
        check_point_cloud("Model", pos, batch, min_points=4)
    duplicated = pos.clone()
    duplicated[4] = duplicated[3]
    with pytest.raises(ValueError, match="Model: 'pos' has duplicate points within an example"):
        check_point_cloud("Model", duplicated, batch)
    across = pos.clone()
    across[3] = across[0]  # the same point in two examples is fine
    check_point_cloud("Model", across, batch)
    with pytest.raises(ValueError, match="Model: 'pos' contains NaN"):
        check_point_cloud("Model", torch.full((2, 3), float("nan")))
