"""PyG's SchNet on topoequi's pure-torch radius graph (no torch-cluster / pyg-lib needed)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.models import schnet as pyg_schnet

from topoequi.graph import radius_graph


class RadiusInteractionGraph(torch.nn.Module):
    r"""Edges between atoms closer than ``cutoff``, with their lengths :math:`\|p_j - p_i\|`.

    Args:
        cutoff (float, optional): cutoff distance. (default: ``10.0``)
        max_num_neighbors (int, optional): neighbours kept per atom. (default: ``32``)

    Shapes:
        - **input:** positions :math:`(|\mathcal{V}|, 3)`, batch vector :math:`(|\mathcal{V}|)`
        - **output:** edge indices :math:`(2, |\mathcal{E}|)`, edge lengths :math:`(|\mathcal{E}|)`
    """

    def __init__(self, cutoff: float = 10.0, max_num_neighbors: int = 32) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.max_num_neighbors = max_num_neighbors

    def forward(self, pos: Tensor, batch: Tensor) -> tuple[Tensor, Tensor]:
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch,
                                  max_num_neighbors=self.max_num_neighbors)
        row, col = edge_index
        return edge_index, (pos[row] - pos[col]).norm(dim=-1)


class SchNet(pyg_schnet.SchNet):
    r"""SchNet from `"SchNet: A Continuous-filter Convolutional Neural Network for Modeling
    Quantum Interactions" <https://arxiv.org/abs/1706.08566>`_: PyG's
    :class:`~torch_geometric.nn.models.SchNet`, whose interaction graph is
    :class:`RadiusInteractionGraph` (PyG 2.8's default calls ``radius_graph``,
    which needs pyg-lib or torch-cluster).

    .. math::
        \mathbf{x}_i' = \mathbf{x}_i + \sum_{j:\ \|p_j-p_i\|<c} \mathbf{x}_j \odot
        W(\|p_j - p_i\|)

    Args: as :class:`torch_geometric.nn.models.SchNet`
    (``hidden_channels=128``, ``num_filters=128``, ``num_interactions=6``,
    ``num_gaussians=50``, ``cutoff=10.0``, ``max_num_neighbors=32``, ...).

    Shapes:
        - **input:** ``z`` :math:`(|\mathcal{V}|)`, ``pos`` :math:`(|\mathcal{V}|, 3)`,
          ``batch`` :math:`(|\mathcal{V}|)`
        - **output:** :math:`(|\mathcal{G}|, 1)`
    """

    def __init__(self, *args, cutoff: float = 10.0, max_num_neighbors: int = 32, **kwargs) -> None:
        if "interaction_graph" in kwargs:
            raise TypeError("SchNet: the interaction graph is topoequi's radius graph; "
                            "use torch_geometric.nn.models.SchNet for another one")
        super().__init__(*args, cutoff=cutoff, max_num_neighbors=max_num_neighbors,
                         interaction_graph=RadiusInteractionGraph(cutoff, max_num_neighbors),
                         **kwargs)
