"""Random point graphs and representations of the steerable convolution tests; random clique complexes with
local homology sheaves of the sheaf convolution tests."""
import networkx as nx
import pytest
import torch

from topoequi.symmetry import Rep
from topoequi.topology import clique_complex
from topoequi.transforms import AddLocalHomologySheaf


def _point_graph(group, n=10, e=36, seed=0):
    gen = torch.Generator().manual_seed(seed)
    pos = torch.randn(n, group.d, generator=gen) * 1.5
    edge_index = torch.randint(n, (2, e), generator=gen)
    return pos, edge_index, gen


def _point_reps(group):
    irreps = group.irreps(None if group.is_finite else 2)[:4]
    return (Rep(group, [(p, 2) for p in irreps]) + group.standard_rep,
            group.standard_rep + Rep(group, [(p, 2) for p in irreps]))


@pytest.fixture
def point_graph():
    """``point_graph(group, n=10, e=36, seed=0)``: positions ``[n, d]``, ``e`` random edges and the generator."""
    return _point_graph


@pytest.fixture
def point_reps():
    """``point_reps(group)``: input and output representations with irreps of four kinds and the standard one."""
    return _point_reps


def _complex_with_sheaf(n=18, p=0.3, seed=0, d=3):
    g = nx.gnp_random_graph(n, p, seed=seed)
    cx = clique_complex(torch.tensor(list(g.edges())).T, n)
    return AddLocalHomologySheaf(stalk_width=d)(cx)


@pytest.fixture
def complex_with_sheaf():
    """``complex_with_sheaf(n=18, p=0.3, seed=0, d=3)``: the clique complex of a G(n, p) graph with its local
    homology sheaf of stalk width ``d``."""
    return _complex_with_sheaf
