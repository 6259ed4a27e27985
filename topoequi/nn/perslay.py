"""PersLay: a learnable, permutation-invariant layer on persistence diagrams."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter

from topoequi.topology.persistence import check_diagram_points

AGGREGATIONS = ("sum", "mean", "max")


class PersLay(nn.Module):
    r"""PersLay of Carrière et al., *PersLay: A Neural Network Layer for Persistence Diagrams and New
    Graph Topological Signatures* (AISTATS 2020, https://arxiv.org/abs/1904.09378), a DeepSets layer
    on diagram points in birth-persistence coordinates :math:`q_i = (b_i, d_i - b_i)`:

    .. math::
        \mathrm{PersLay}(D) = \operatorname*{op}_{i} \; w(q_i)\, \phi(q_i), \qquad
        w(q) = \operatorname{softplus}(\mathrm{MLP}_w(q)),

    with :math:`\phi` a point-wise MLP, :math:`w` a learned non-negative weight (or 1 with
    ``weight=False``) and op a permutation-invariant pooling (sum, mean or max). An empty diagram
    gives zeros.

    Args:
        out_channels (int): size of :math:`\phi`'s output.
        hidden_channels (int): hidden width of :math:`\phi` and :math:`\mathrm{MLP}_w`.
        aggr (str, optional): ``"sum"``, ``"mean"`` or ``"max"``. (default: ``"sum"``)
        weight (bool, optional): learn the weight function. (default: ``True``)

    Shapes:
        - **input:** points :math:`(P, 2)`, batch :math:`(P,)` (optional), ``num_graphs`` (optional)
        - **output:** :math:`(G, C_{out})`
    """

    def __init__(self, out_channels: int, hidden_channels: int = 32, aggr: str = "sum", weight: bool = True) -> None:
        super().__init__()
        owner = self.__class__.__name__
        for name, value in (("out_channels", out_channels), ("hidden_channels", hidden_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        if aggr not in AGGREGATIONS:
            raise ValueError(f"{owner}: aggr must be one of {AGGREGATIONS}, got {aggr!r}")
        self.out_channels, self.hidden_channels, self.aggr = out_channels, hidden_channels, aggr
        self.phi = nn.Sequential(nn.Linear(2, hidden_channels), nn.ReLU(), nn.Linear(hidden_channels, out_channels))
        self.weight = nn.Sequential(nn.Linear(2, hidden_channels), nn.ReLU(), nn.Linear(hidden_channels, 1)) \
            if weight else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()

    def forward(self, points: Tensor, batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = check_diagram_points(self.__class__.__name__, points, batch, num_graphs)
        q = torch.stack([points[:, 0], points[:, 1] - points[:, 0]], dim=-1)
        features = self.phi(q)
        if self.weight is not None:
            features = features * F.softplus(self.weight(q))
        return scatter(features, batch, dim=0, dim_size=num_graphs, reduce=self.aggr)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(out_channels={self.out_channels}, hidden_channels={self.hidden_channels}, "
                f"aggr={self.aggr!r}, weight={self.weight is not None})")
