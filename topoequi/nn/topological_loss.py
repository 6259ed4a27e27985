"""Topological regularisers: total persistence and the Wasserstein distance to a target diagram."""
from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from topoequi.topology.persistence import check_diagram_points


def total_persistence(points: Tensor, batch: Tensor | None = None, num_graphs: int | None = None,
                      p: float = 1.0) -> Tensor:
    r"""Total persistence :math:`\sum_i (d_i - b_i)^p` of each diagram, ``[G]``."""
    batch, num_graphs = check_diagram_points("total_persistence", points, batch, num_graphs)
    pers = (points[:, 1] - points[:, 0]).clamp(min=0) ** p
    return pers.new_zeros(num_graphs).index_add(0, batch, pers)


def wasserstein_distance(x: Tensor, y: Tensor, p: float = 2.0) -> Tensor:
    r"""The order-``p`` Wasserstein distance between two finite diagrams ``[P, 2]`` and ``[Q, 2]``,

    .. math::
        W_p(X, Y) = \Bigl(\min_{\gamma} \sum_{x \in X \cup \Delta} \lVert x - \gamma(x) \rVert_\infty^p\Bigr)^{1/p},

    over bijections :math:`\gamma` that may send points to the diagonal :math:`\Delta` (cost
    :math:`((d - b)/2)^p`). The optimal matching is found by the Hungarian algorithm (scipy) on the
    detached costs; the distance is then a differentiable function of both diagrams (the
    matching is locally constant away from ties)."""
    for diagram in (x, y):
        check_diagram_points("wasserstein_distance", diagram, None, 1)
    if not p >= 1:
        raise ValueError(f"wasserstein_distance: p must be >= 1, got {p!r}")
    n, m = x.size(0), y.size(0)
    if n + m == 0:
        return x.new_zeros(())
    to_diag_x = ((x[:, 1] - x[:, 0]).abs() / 2) ** p
    to_diag_y = ((y[:, 1] - y[:, 0]).abs() / 2) ** p
    cost = x.new_zeros(n + m, m + n)
    cost[:n, :m] = (x[:, None, :] - y[None, :, :]).abs().amax(-1) ** p
    cost[:n, m:] = to_diag_x[:, None]
    cost[n:, :m] = to_diag_y[None, :]
    rows, cols = linear_sum_assignment(cost.detach().cpu().numpy())
    rows, cols = torch.as_tensor(rows, device=x.device), torch.as_tensor(cols, device=x.device)
    total = cost[rows, cols].sum()
    return total.clamp(min=torch.finfo(total.dtype).tiny) ** (1.0 / p)      # no infinite gradient at 0


class TopologicalLoss(nn.Module):
    r"""A topological regulariser on a batch of diagrams of one homology dimension, averaged over the
    diagrams: the total persistence :math:`\sum_i (d_i - b_i)^p` (to simplify topology: drive short
    bars to the diagonal) or, given ``target``, the Wasserstein distance :math:`W_p(D_g, D_\text{target})`
    (to impose it), as in Brüel-Gabrielsson et al., *A Topology Layer for Machine Learning*
    (AISTATS 2020, https://arxiv.org/abs/1905.12200).

    Args:
        p (float, optional): the order. (default: ``2.0``)
        target (Tensor ``[Q, 2]``, optional): the target diagram. (default: ``None``: total persistence)

    Shapes:
        - **input:** points :math:`(P, 2)`, batch :math:`(P,)` (optional), ``num_graphs`` (optional)
        - **output:** a scalar
    """

    def __init__(self, p: float = 2.0, target: Tensor | None = None) -> None:
        super().__init__()
        if not p >= 1:
            raise ValueError(f"{self.__class__.__name__}: p must be >= 1, got {p!r}")
        if target is not None:
            check_diagram_points(self.__class__.__name__, target, None, 1)
        self.p = float(p)
        self.register_buffer("target", target)

    def forward(self, points: Tensor, batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = check_diagram_points(self.__class__.__name__, points, batch, num_graphs)
        if self.target is None:
            return total_persistence(points, batch, num_graphs, self.p).mean()
        target = self.target.to(points.dtype)
        return torch.stack([wasserstein_distance(points[batch == g], target, self.p)
                            for g in range(num_graphs)]).mean()

    def __repr__(self) -> str:
        target = "None" if self.target is None else f"[{self.target.size(0)} points]"
        return f"{self.__class__.__name__}(p={self.p}, target={target})"
