r"""Message passing with learned edge states, for complete graphs such as lattice bases."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing


class _PairMLP(nn.Module):
    r"""Two-layer SiLU MLP on :math:`[\mathbf{a}, \mathbf{b}, \mathbf{e}]` whose first layer is split,
    :math:`W[\mathbf{a}, \mathbf{b}, \mathbf{e}] = W_a\mathbf{a} + W_b\mathbf{b} + W_e\mathbf{e}`, so the
    node terms are computed once per node instead of once per edge."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.source = nn.Linear(channels, hidden, bias=False)
        self.target = nn.Linear(channels, hidden, bias=False)
        self.edge = nn.Linear(channels, hidden)
        self.out = nn.Linear(hidden, channels)

    def reset_parameters(self) -> None:
        for layer in (self.source, self.target, self.edge, self.out):
            layer.reset_parameters()


class GramEdgeConv(MessagePassing):
    r"""Edge-and-node update used by the neural lattice reducer, from Marchetti et al.,
    `Neural Lattice Reduction: A Self-Supervised Geometric Deep Learning Approach
    <https://arxiv.org/abs/2311.08170>`_.

    Edges keep a state that is refreshed from both endpoints, then nodes aggregate
    messages built from the refreshed edges:

    .. math::
        \mathbf{e}_{ij}' &= \mathbf{e}_{ij} + \phi_e\big(\mathbf{x}_i, \mathbf{x}_j, \mathbf{e}_{ij}\big) \\
        \mathbf{x}_j' &= \mathbf{x}_j + \phi_x\Big(\mathbf{x}_j,
            \operatorname{mean}_{i \in \mathcal{N}(j)} \phi_m\big(\mathbf{x}_i, \mathbf{x}_j, \mathbf{e}_{ij}'\big)\Big)

    for an edge :math:`i \to j`, with two-layer SiLU MLPs :math:`\phi`. With invariant
    inputs (as :class:`~topoequi.transforms.LatticeGraph` produces) the layer is
    permutation equivariant and invariant to sign flips of the basis vectors.

    Args:
        channels (int): width of node and edge states.
        hidden_channels (int, optional): width inside the MLPs. (default: ``2 * channels``)
        **kwargs (optional): additional arguments of :class:`torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        - **input:** node states :math:`(|\mathcal{V}|, C)`, edge indices :math:`(2, |\mathcal{E}|)`,
          edge states :math:`(|\mathcal{E}|, C)`
        - **output:** node states :math:`(|\mathcal{V}|, C)`, edge states :math:`(|\mathcal{E}|, C)`
    """

    def __init__(self, channels: int, hidden_channels: int | None = None, **kwargs) -> None:
        kwargs.setdefault("aggr", "mean")
        super().__init__(**kwargs)
        if channels < 1:
            raise ValueError(f"GramEdgeConv: channels must be positive, got {channels}")
        hidden = hidden_channels or 2 * channels
        self.channels = channels
        self.edge_mlp = _PairMLP(channels, hidden)
        self.message_mlp = _PairMLP(channels, hidden)
        self.node_mlp = nn.Sequential(nn.Linear(2 * channels, hidden), nn.SiLU(), nn.Linear(hidden, channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.edge_mlp.reset_parameters()
        self.message_mlp.reset_parameters()
        for layer in (self.node_mlp[0], self.node_mlp[2]):
            layer.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        if x.shape[-1] != self.channels or edge_attr.shape[-1] != self.channels:
            raise ValueError(f"GramEdgeConv: expected node and edge states with {self.channels} channels, "
                             f"got {x.shape[-1]} and {edge_attr.shape[-1]}")
        if edge_attr.shape[0] != edge_index.shape[1]:
            raise ValueError(f"GramEdgeConv: {edge_attr.shape[0]} edge states for {edge_index.shape[1]} edges")
        mlp = self.edge_mlp
        edge_attr = edge_attr + self.edge_updater(edge_index, src=mlp.source(x), dst=mlp.target(x),
                                                  edge_attr=mlp.edge(edge_attr))
        mlp = self.message_mlp
        aggr = self.propagate(edge_index, src=mlp.source(x), dst=mlp.target(x), edge_attr=mlp.edge(edge_attr))
        return x + self.node_mlp(torch.cat([x, aggr], -1)), edge_attr

    def edge_update(self, src_j: Tensor, dst_i: Tensor, edge_attr: Tensor) -> Tensor:
        return self.edge_mlp.out(F.silu(src_j + dst_i + edge_attr))

    def message(self, src_j: Tensor, dst_i: Tensor, edge_attr: Tensor) -> Tensor:
        return self.message_mlp.out(F.silu(src_j + dst_i + edge_attr))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"
