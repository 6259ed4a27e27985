"""Persistence images: a diagram as a smooth, fixed-size image."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.topology.persistence import check_diagram_points, check_range


class PersistenceImage(nn.Module):
    r"""The persistence image of Adams et al., *Persistence Images: A Stable Vector Representation of
    Persistent Homology* (JMLR 2017, https://arxiv.org/abs/1507.06217).

    Each point :math:`(b_i, d_i)` is moved to birth-persistence coordinates :math:`(b_i, p_i = d_i - b_i)`
    and spreads a Gaussian weighted by its persistence; the image is sampled at the pixel centres
    :math:`(x, y)` of a grid over ``birth_range`` x ``persistence_range``:

    .. math::
        I(x, y) = \sum_i w(p_i)\, \exp\!\Bigl(-\frac{(x - b_i)^2 + (y - p_i)^2}{2 \sigma^2}\Bigr),
        \qquad w(p) = \max(p, 0)^{q}.

    Points with zero persistence weigh nothing, so the image is continuous in the diagram
    (stable, in the paper's sense) and differentiable in the births and deaths.

    Args:
        resolution (int): pixels per axis :math:`R`.
        birth_range (tuple): the birth axis ``(low, high)``.
        persistence_range (tuple): the persistence axis ``(low, high)``.
        sigma (float): Gaussian width, in filtration units.
        weight_power (float, optional): the exponent :math:`q` of the weight. (default: ``1.0``)

    Shapes:
        - **input:** points :math:`(P, 2)`, batch :math:`(P,)` (optional), ``num_graphs`` (optional)
        - **output:** :math:`(G, R^2)`, birth-major (row :math:`i` of the image is birth pixel :math:`i`)
    """

    def __init__(self, resolution: int, birth_range: tuple[float, float], persistence_range: tuple[float, float],
                 sigma: float, weight_power: float = 1.0) -> None:
        super().__init__()
        owner = self.__class__.__name__
        if not isinstance(resolution, int) or resolution < 1:
            raise ValueError(f"{owner}: resolution must be a positive int, got {resolution!r}")
        if not sigma > 0 or not weight_power >= 0:
            raise ValueError(f"{owner}: need sigma > 0 and weight_power >= 0, got {sigma!r}, {weight_power!r}")
        self.resolution, self.sigma, self.weight_power = resolution, float(sigma), float(weight_power)
        self.birth_range = check_range(owner, "birth_range", birth_range)
        self.persistence_range = check_range(owner, "persistence_range", persistence_range)

    def _centres(self, axis: tuple[float, float], like: Tensor) -> Tensor:
        step = (axis[1] - axis[0]) / self.resolution
        return axis[0] + step * (torch.arange(self.resolution, device=like.device, dtype=like.dtype) + 0.5)

    def forward(self, points: Tensor, batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = check_diagram_points(self.__class__.__name__, points, batch, num_graphs)
        birth, pers = points[:, 0], points[:, 1] - points[:, 0]
        gx = torch.exp(-0.5 * ((self._centres(self.birth_range, points) - birth[:, None]) / self.sigma) ** 2)
        gy = torch.exp(-0.5 * ((self._centres(self.persistence_range, points) - pers[:, None]) / self.sigma) ** 2)
        weight = pers.clamp(min=0) ** self.weight_power if self.weight_power > 0 else torch.ones_like(pers)
        pixels = (weight[:, None, None] * gx[:, :, None] * gy[:, None, :]).reshape(points.size(0), self.resolution ** 2)
        out = points.new_zeros(num_graphs, self.resolution ** 2)
        return out.index_add(0, batch, pixels)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(resolution={self.resolution}, birth_range={self.birth_range}, "
                f"persistence_range={self.persistence_range}, sigma={self.sigma}, weight_power={self.weight_power})")
