"""PyG's PointNet++ layers on topoequi's pure-torch farthest-point sampling and radius search."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.nn import MLP, PointNetConv, global_max_pool

from topoequi.graph import radius
from topoequi.graph.fps import check_point_cloud, fps


class SetAbstraction(nn.Module):
    r"""One set-abstraction level: farthest-point samples, each summarising its neighbours within
    ``r`` (at most ``max_num_neighbors``) by :class:`~torch_geometric.nn.conv.PointNetConv`,

    .. math::
        f'_i = \max_{j:\ \|p_j - p_i\| < r} h_\Theta\big(f_j, p_j - p_i\big).

    Args:
        ratio (float): fraction of the points kept.
        r (float): neighbourhood radius.
        mlp (nn.Module): :math:`h_\Theta`, from ``in + 3`` to the output width.
        max_num_neighbors (int, optional): neighbours per kept point. (default: ``64``)
    """

    def __init__(self, ratio: float, r: float, mlp: nn.Module, max_num_neighbors: int = 64):
        super().__init__()
        self.ratio, self.r, self.max_num_neighbors = ratio, r, max_num_neighbors
        self.conv = PointNetConv(mlp, add_self_loops=False)

    def forward(self, x: Tensor | None, pos: Tensor, batch: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        kept = fps(pos, batch, ratio=self.ratio)
        pairs = radius(pos, pos[kept], self.r, batch, batch[kept], max_num_neighbors=self.max_num_neighbors)
        x_kept = None if x is None else x[kept]
        x = self.conv((x, x_kept), (pos, pos[kept]), pairs.flip(0))
        return x, pos[kept], batch[kept]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(ratio={self.ratio}, r={self.r}, conv={self.conv})"


class PointNet2(nn.Module):
    r"""PointNet++ classifier (`"PointNet++: Deep Hierarchical Feature Learning on Point Sets in a Metric
    Space" <https://arxiv.org/abs/1706.02413>`_, Qi et al., NeurIPS 2017) as in PyG's example: two
    :class:`SetAbstraction` levels, a global PointNet :math:`\max_i h(f_i, p_i)`, and an MLP head.
    Not rotation invariant: it sees absolute coordinates.

    Args:
        num_classes (int): number of shape classes.
        ratios (Sequence[float], optional): fractions kept by the two levels. (default: ``(0.5, 0.25)``)
        radii (Sequence[float], optional): their radii (shapes in the unit ball). (default: ``(0.25, 0.5)``)
        width (int, optional): 64 in PyG's example; every layer scales with it. (default: ``32``)
        dropout (float, optional): in the head. (default: ``0.5``)
        norm_momentum (float, optional): momentum of the batch norms' running statistics. (default: ``0.1``)

    Shapes:
        - **input:** a PyG ``Batch`` with ``pos`` :math:`(N, 3)` and ``batch`` :math:`(N,)`
        - **output:** logits :math:`(B, \text{num\_classes})`
    """

    def __init__(self, num_classes: int, ratios: Sequence[float] = (0.5, 0.25), radii: Sequence[float] = (0.25, 0.5),
                 width: int = 32, dropout: float = 0.5,
                 norm_momentum: float = 0.1):
        super().__init__()
        self.num_classes, self.width = num_classes, width
        w, norm = width, {"momentum": norm_momentum}
        self.levels = nn.ModuleList([
            SetAbstraction(ratios[0], radii[0], MLP([3, w, w, 2 * w], norm_kwargs=norm)),
            SetAbstraction(ratios[1], radii[1], MLP([2 * w + 3, 2 * w, 2 * w, 4 * w], norm_kwargs=norm))])
        self.global_mlp = MLP([4 * w + 3, 4 * w, 8 * w, 16 * w], norm_kwargs=norm)
        self.head = MLP([16 * w, 8 * w, 4 * w, num_classes], dropout=dropout, norm=None)

    def forward(self, data) -> Tensor:
        pos = data.pos
        batch = (data.batch if getattr(data, "batch", None) is not None
                 else pos.new_zeros(pos.shape[0], dtype=torch.long))
        check_point_cloud("PointNet2", pos, batch, min_points=2)
        x = None
        for level in self.levels:
            x, pos, batch = level(x, pos, batch)
        x = global_max_pool(self.global_mlp(torch.cat([x, pos], 1)), batch)
        return self.head(x)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.num_classes}, width={self.width})"
