"""The Vietoris-Rips complex of a point cloud, as a transform."""
from __future__ import annotations

from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from topoequi.topology.complex import SimplicialComplex, rips_complex
from topoequi.transforms.clique_complex import EDGE_LEVEL_KEYS


class RipsComplex(BaseTransform):
    r"""Build the Vietoris-Rips complex of ``data.pos`` at scale ``radius`` (gudhi).

    Edges join points at distance :math:`\le` ``radius`` and carry their
    length as ``edge_weight`` (the filtration of the persistent sheaf);
    triangles are added up to ``max_dim``. Other node- and graph-level
    attributes are copied.

    Args:
        radius (float): the scale.
        max_dim (int, optional): 1 or 2. (default: ``2``)
    """

    def __init__(self, radius: float, max_dim: int = 2) -> None:
        if not isinstance(radius, (int, float)) or not radius > 0:
            raise ValueError(f"RipsComplex: radius must be a positive number, got {radius!r}")
        if max_dim not in (1, 2):
            raise ValueError(f"RipsComplex: max_dim must be 1 or 2, got {max_dim!r}")
        self.radius, self.max_dim = float(radius), max_dim

    def forward(self, data: Data) -> SimplicialComplex:
        if data.pos is None:
            raise ValueError("RipsComplex: data has no pos")
        extra = {k: v for k, v in data.items() if k not in EDGE_LEVEL_KEYS + ("num_nodes", "pos")}
        return rips_complex(data.pos, self.radius, self.max_dim, **extra)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(radius={self.radius}, max_dim={self.max_dim})"
