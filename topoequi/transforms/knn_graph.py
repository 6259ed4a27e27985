"""k-NN graph of node positions, as a transform (works without pyg-lib / torch-cluster)."""
from __future__ import annotations

from torch_geometric.data import Data
from torch_geometric.data.datapipes import functional_transform
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import to_undirected

from topoequi.graph import knn_graph
from topoequi.graph.checks import check_flag, check_flow, check_k


@functional_transform("topoequi_knn_graph")
class KNNGraph(BaseTransform):
    r"""Connect every node to its ``k`` nearest nodes (functional name:
    ``topoequi_knn_graph``), with topoequi's pure-torch
    :func:`~topoequi.graph.knn_graph`: edges :math:`(j, i)` for the :math:`k`
    nodes :math:`j \neq i` of the same example closest to :math:`i` (ties by
    smaller index). ``data.batch`` keeps examples apart; ``edge_attr`` is
    cleared, as PyG's ``KNNGraph`` does.

    Args:
        k (int, optional): The number of neighbours. (default: ``6``)
        loop (bool, optional): Include self-loops (a node is then its own
            nearest neighbour). (default: ``False``)
        force_undirected (bool, optional): Add the reverse of every edge
            (and remove duplicates). (default: ``False``)
        flow (str, optional): ``"source_to_target"`` (every target has ``k``
            incoming edges) or ``"target_to_source"``. (default: ``"source_to_target"``)
        cosine (bool, optional): Use the cosine distance. (default: ``False``)
    """

    def __init__(self, k: int = 6, loop: bool = False, force_undirected: bool = False,
                 flow: str = "source_to_target", cosine: bool = False) -> None:
        name = self.__class__.__name__
        self.k = check_k(name, k)
        self.loop = check_flag(name, "loop", loop)
        self.force_undirected = check_flag(name, "force_undirected", force_undirected)
        self.flow = check_flow(name, flow)
        self.cosine = check_flag(name, "cosine", cosine)

    def forward(self, data: Data) -> Data:
        if data.pos is None:
            raise ValueError(f"{self.__class__.__name__}: data has no 'pos'")
        edge_index = knn_graph(data.pos, self.k, data.batch, loop=self.loop, flow=self.flow,
                               cosine=self.cosine)
        if self.force_undirected:
            edge_index = to_undirected(edge_index, num_nodes=data.num_nodes)
        data.edge_index = edge_index
        data.edge_attr = None
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(k={self.k})"
