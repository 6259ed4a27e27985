"""Fixtures shared by the topology tests: hand-built complexes and the persistence comparisons."""
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


# Hand-built complexes (lists of top simplices) whose local homology is known.
_OCTAHEDRON = [(a, b, c) for a in (0, 1) for b in (2, 3) for c in (4, 5)]          # a 2-sphere
_TORUS = [tuple(sorted((i, (i + j) % 7, (i + 3) % 7))) for i in range(7) for j in (1, 2)]  # 7-vertex torus
_HEXAGON_DISK = [(0, i, i % 6 + 1) for i in range(1, 7)]                          # centre 0, rim 1..6
_BOWTIE = [(0, 1, 2), (0, 3, 4)]
# two octahedra glued at one vertex (vertex 0 of both): a pinched sphere pair
_PINCHED = _OCTAHEDRON + [tuple(sorted(x if x == 0 else x + 5 for x in t)) for t in _OCTAHEDRON]
# the minimal 6-vertex projective plane
_RP2 = [(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 5), (0, 1, 5),
        (1, 2, 4), (2, 3, 5), (1, 3, 4), (2, 4, 5), (1, 3, 5)]
# three triangles sharing the edge (0, 1): a "book" with three pages
_BOOK = [(0, 1, 2), (0, 1, 3), (0, 1, 4)]


@pytest.fixture(scope="session")
def surfaces() -> dict[str, list[tuple[int, ...]]]:
    """Top simplices of complexes with known local homology: ``octahedron`` (a 2-sphere), ``torus``
    (7 vertices), ``rp2`` (6 vertices), ``disk`` (a hexagon around vertex 0), ``bowtie``, ``pinched`` (two
    octahedra sharing vertex 0) and ``book`` (three triangles on the edge (0, 1))."""
    return {"octahedron": _OCTAHEDRON, "torus": _TORUS, "rp2": _RP2, "disk": _HEXAGON_DISK,
            "bowtie": _BOWTIE, "pinched": _PINCHED, "book": _BOOK}
