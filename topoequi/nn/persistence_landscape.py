"""Persistence landscapes: a diagram as a few piecewise-linear functions, sampled on a grid."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import to_dense_batch

from topoequi.topology.persistence import check_diagram_points, check_range


class PersistenceLandscape(nn.Module):
    r"""The persistence landscape of Bubenik, *Statistical Topological Data Analysis using Persistence
    Landscapes* (JMLR 2015, https://arxiv.org/abs/1207.6437), sampled at ``resolution`` points of
    ``sample_range``:

    .. math::
        \lambda_k(t) = k\text{-th largest of } \bigl\{\max\bigl(0, \min(t - b_i, d_i - t)\bigr)\bigr\}_i,
        \qquad k = 1, \dots, K.

    Each point contributes a tent over its bar; :math:`\lambda_k` is the upper envelope of depth
    :math:`k`, 1-Lipschitz in the diagram and differentiable in births and deaths away from crossings.

    Args:
        num_landscapes (int): :math:`K`.
        resolution (int): number of samples :math:`T` of each landscape.
        sample_range (tuple): the filtration interval ``(low, high)`` the samples cover (end points included).

    Shapes:
        - **input:** points :math:`(P, 2)`, batch :math:`(P,)` (optional), ``num_graphs`` (optional)
        - **output:** :math:`(G, K \cdot T)`, landscape-major
    """

    def __init__(self, num_landscapes: int, resolution: int, sample_range: tuple[float, float]) -> None:
        super().__init__()
        owner = self.__class__.__name__
        for name, value in (("num_landscapes", num_landscapes), ("resolution", resolution)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        self.num_landscapes, self.resolution = num_landscapes, resolution
        self.sample_range = check_range(owner, "sample_range", sample_range)

    def forward(self, points: Tensor, batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = check_diagram_points(self.__class__.__name__, points, batch, num_graphs)
        dense, mask = to_dense_batch(points, batch, batch_size=num_graphs)            # [G, M, 2], [G, M]
        t = torch.linspace(*self.sample_range, self.resolution, device=points.device, dtype=points.dtype)
        tents = torch.minimum(t - dense[..., :1], dense[..., 1:] - t).clamp(min=0) * mask[..., None]
        if tents.size(1) < self.num_landscapes:
            tents = F.pad(tents, (0, 0, 0, self.num_landscapes - tents.size(1)))
        return tents.topk(self.num_landscapes, dim=1).values.reshape(num_graphs, -1)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_landscapes={self.num_landscapes}, resolution={self.resolution}, "
                f"sample_range={self.sample_range})")
