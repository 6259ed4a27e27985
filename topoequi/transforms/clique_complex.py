"""The clique complex of a graph, as a transform."""
from __future__ import annotations

from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from topoequi.topology.complex import SimplicialComplex, clique_complex

EDGE_LEVEL_KEYS = ("edge_index", "edge_attr", "edge_weight")


class CliqueComplex(BaseTransform):
    r"""Replace a graph by its clique (flag) complex up to dimension ``max_dim``.

    The result is a :class:`~topoequi.topology.SimplicialComplex` with sorted
    ``edges`` and ``triangles`` and a symmetric ``edge_index``. Self-loops and
    duplicate or reversed edges are dropped; isolated vertices are kept.
    Node- and graph-level attributes (``x``, ``y``, masks ...) are copied;
    edge-level ones (``edge_attr``, ``edge_weight``) are dropped, since the
    edges are deduplicated.

    Args:
        max_dim (int, optional): 1 (the graph) or 2 (with triangles). (default: ``2``)
    """

    def __init__(self, max_dim: int = 2) -> None:
        if max_dim not in (1, 2):
            raise ValueError(f"CliqueComplex: max_dim must be 1 or 2, got {max_dim!r}")
        self.max_dim = max_dim

    def forward(self, data: Data) -> SimplicialComplex:
        if data.edge_index is None:
            raise ValueError("CliqueComplex: data has no edge_index")
        if data.num_nodes is None:
            raise ValueError("CliqueComplex: data has no num_nodes (set it, or give x)")
        extra = {k: v for k, v in data.items() if k not in EDGE_LEVEL_KEYS and k != "num_nodes"}
        return clique_complex(data.edge_index, int(data.num_nodes), self.max_dim, **extra)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(max_dim={self.max_dim})"
