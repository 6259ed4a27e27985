"""Fixtures shared by the model tests."""
import pytest
import torch


def _random_molecules(seed: int = 0, sizes=(9, 14)) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randint(1, 10, (sum(sizes),), generator=g)
    pos = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64) * 1.4
    batch = torch.cat([torch.full((n,), i) for i, n in enumerate(sizes)])
    return z, pos, batch


def _rotation(seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return q * torch.sign(torch.det(q))


@pytest.fixture(scope="session")
def random_molecules():
    """``random_molecules(seed=0, sizes=(9, 14))``: ``(z, pos, batch)`` of random float64 molecules."""
    return _random_molecules


@pytest.fixture(scope="session")
def rotation():
    """``rotation(seed)``: a seeded proper rotation ``[3, 3]`` (float64)."""
    return _rotation


def _point_cloud_logits(model) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    from torch_geometric.data import Batch, Data

    gen = torch.Generator().manual_seed(1)
    shapes = [Data(pos=torch.randn(24, 3, generator=gen)) for _ in range(3)]
    together = model(Batch.from_data_list(shapes))
    alone = model(Batch.from_data_list(shapes[1:2]))
    permuted = model(Batch.from_data_list([Data(pos=shapes[1].pos[torch.randperm(24, generator=gen)])]))
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen))
    rotated = model(Batch.from_data_list([Data(pos=shapes[1].pos @ q.T)]))
    return together, alone, permuted, rotated


@pytest.fixture(scope="session")
def point_cloud_logits():
    """``point_cloud_logits(model)``: the logits of three random clouds batched together, of the second
    alone, of the second with its points shuffled, and of the second rotated."""
    return _point_cloud_logits
