"""Fixtures shared by the transform tests."""
import pytest
import torch
from torch_geometric.data import Data


def _molecule(n: int, seed: int) -> Data:
    gen = torch.Generator().manual_seed(seed)
    return Data(pos=torch.randn(n, 3, generator=gen) * 1.5, z=torch.arange(n),
                edge_index=torch.tensor([[0], [1]]), edge_attr=torch.ones(1, 4))


def _wheel(n: int) -> torch.Tensor:
    rim = [(i, i % n + 1) for i in range(1, n + 1)]
    spokes = [(0, i) for i in range(1, n + 1)]
    return torch.tensor(rim + spokes).T


@pytest.fixture(scope="session")
def molecule():
    """``molecule(n, seed)``: ``n`` random positions with atom numbers and one stale edge and edge_attr."""
    return _molecule


@pytest.fixture(scope="session")
def wheel():
    """``wheel(n)``: centre 0 joined to a rim cycle 1..n; its clique complex is a disk (interior vertex 0)."""
    return _wheel
