"""Radius graph of node positions, as a transform (works without pyg-lib / torch-cluster)."""
from __future__ import annotations

from torch_geometric.data import Data
from torch_geometric.data.datapipes import functional_transform
from torch_geometric.transforms import BaseTransform

from topoequi.graph import radius_graph
from topoequi.graph.checks import check_flag, check_flow, check_max_num_neighbors, check_radius


@functional_transform("topoequi_radius_graph")
class RadiusGraph(BaseTransform):
    r"""Connect every pair of nodes closer than ``r`` (functional name:
    ``topoequi_radius_graph``), with topoequi's pure-torch
    :func:`~topoequi.graph.radius_graph`:

    .. math::
        \mathcal{E} = \{ (j, i) : b_j = b_i,\ j \neq i,\ \lVert \mathbf{p}_j - \mathbf{p}_i \rVert < r \}

    ``data.batch`` (present on a :class:`~torch_geometric.data.Batch`) keeps
    examples apart. ``edge_index`` is replaced and ``edge_attr`` cleared, as
    PyG's ``RadiusGraph`` does, unless the edges go to another attribute
    (``key``): then the existing graph (bonds, say) stays as it is.

    Args:
        r (float): The distance (strict test).
        loop (bool, optional): Include self-loops. (default: ``False``)
        max_num_neighbors (int, optional): At most this many incoming
            neighbours per node, those of smallest index; ``None`` keeps all.
            (default: ``32``)
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
        key (str, optional): the attribute that receives the edges. (default: ``"edge_index"``)
    """

    def __init__(self, r: float, loop: bool = False, max_num_neighbors: int | None = 32,
                 flow: str = "source_to_target", key: str = "edge_index") -> None:
        name = self.__class__.__name__
        self.key = key
        self.r = check_radius(name, r)
        self.loop = check_flag(name, "loop", loop)
        self.max_num_neighbors = check_max_num_neighbors(name, max_num_neighbors)
        self.flow = check_flow(name, flow)

    def forward(self, data: Data) -> Data:
        if data.pos is None:
            raise ValueError(f"{self.__class__.__name__}: data has no 'pos'")
        data[self.key] = radius_graph(data.pos, self.r, data.batch, self.loop,
                                      max_num_neighbors=self.max_num_neighbors, flow=self.flow)
        if self.key == "edge_index":
            data.edge_attr = None
        return data

    def __repr__(self) -> str:
        key = "" if self.key == "edge_index" else f", key={self.key!r}"
        return f"{self.__class__.__name__}(r={self.r}, max_num_neighbors={self.max_num_neighbors}{key})"
