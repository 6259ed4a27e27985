"""Fixtures shared by the persistence tests."""
import numpy as np
import pytest
import torch
from torch_geometric.utils import erdos_renyi_graph


def _finite_intervals(tree_or_complex, dim: int) -> np.ndarray:
    ref = tree_or_complex.persistence_intervals_in_dimension(dim).reshape(-1, 2)
    ref = ref[np.isfinite(ref[:, 1])]
    return ref[np.lexsort(ref.T[::-1])]


def _sorted_points(points: torch.Tensor) -> np.ndarray:
    p = points.detach().numpy()
    return p[np.lexsort(p.T[::-1])]


def _random_graph(n: int, p: float, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return erdos_renyi_graph(n, p)


@pytest.fixture(scope="session")
def finite_intervals():
    """``finite_intervals(gudhi_complex, dim)``: gudhi's finite intervals in ``dim``, sorted, ``[K, 2]``."""
    return _finite_intervals


@pytest.fixture(scope="session")
def sorted_points():
    """``sorted_points(points)``: diagram points as a lexicographically sorted array, to compare with gudhi."""
    return _sorted_points


@pytest.fixture(scope="session")
def random_graph():
    """``random_graph(n, p, seed)``: a seeded Erdos-Renyi ``edge_index``."""
    return _random_graph
