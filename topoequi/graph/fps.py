r"""Farthest-point sampling in pure torch (torch-cluster's ``fps`` semantics), and point-cloud checks.

Every example is sampled greedily: the first point (or a random one), then
repeatedly the point farthest from those already chosen,

.. math::
    s_{t+1} = \arg\max_{i} \min_{u \le t} \lVert x_i - x_{s_u} \rVert^2 ,

until :math:`\lceil r \cdot n_b \rceil` points (or ``num``) of example
:math:`b` are chosen; ties go to the smaller index. All examples are sampled
at once on a padded ``[B, N_max]`` distance table, so a step costs one
vectorized update. The choice depends only on distances, so it commutes with
rotations, reflections and translations of the points.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.utils import to_dense_batch

from topoequi.graph.checks import check_batch, check_flag, check_points


def fps(x: Tensor, batch: Tensor | None = None, ratio: float | None = 0.5, num: int | None = None,
        random_start: bool = False, generator: torch.Generator | None = None) -> Tensor:
    r"""Indices of the farthest-point samples of every example.

    Args:
        x (torch.Tensor): Points :math:`\mathbf{X} \in \mathbb{R}^{N \times D}`.
        batch (torch.Tensor, optional): Sorted example of every point. (default: ``None``)
        ratio (float, optional): Fraction of each example to keep, in ``(0, 1]``;
            :math:`\lceil r \cdot n_b \rceil` points. (default: ``0.5``)
        num (int, optional): Keep exactly ``num`` points per example instead of
            a ratio (an example with fewer points is an error). (default: ``None``)
        random_start (bool, optional): Start from a random point of every example
            instead of its first one. (default: ``False``)
        generator (torch.Generator, optional): Source of the random starts.

    Returns:
        Long tensor of the chosen indices into ``x``, grouped by example, in the
        order they were chosen.
    """
    fn = "fps"
    check_points(fn, "x", x)
    check_flag(fn, "random_start", random_start)
    batch = check_batch(fn, "batch", batch, x, None)
    if x.size(0) == 0:
        return torch.empty(0, dtype=torch.long, device=x.device)
    dense, mask = to_dense_batch(x, batch)
    counts = mask.sum(1)
    wanted = _sample_counts(fn, counts, ratio, num)
    num_examples, width = mask.shape
    start = torch.zeros(num_examples, dtype=torch.long, device=x.device)
    if random_start:
        draw = torch.rand(num_examples, generator=generator, device="cpu").to(x.device)
        start = (draw * counts).long().clamp_max(counts - 1).clamp_min(0)
    steps = int(wanted.max())
    chosen = torch.empty(num_examples, steps, dtype=torch.long, device=x.device)
    nearest = torch.full((num_examples, width), math.inf, dtype=x.dtype, device=x.device)
    nearest = nearest.masked_fill(~mask, -1.0)  # padding is never the farthest
    rows = torch.arange(num_examples, device=x.device)
    current = start
    with torch.no_grad():
        for t in range(steps):
            chosen[:, t] = current
            step = (dense - dense[rows, current][:, None, :]).pow(2).sum(-1)
            nearest = torch.minimum(nearest, step.masked_fill(~mask, -1.0))
            current = nearest.argmax(1)  # the first maximum: ties go to the smaller index
    offsets = counts.cumsum(0) - counts
    keep = torch.arange(steps, device=x.device)[None, :] < wanted[:, None]
    return (chosen + offsets[:, None])[keep]


def _sample_counts(fn: str, counts: Tensor, ratio: float | None, num: int | None) -> Tensor:
    """Points to choose in every example."""
    if (ratio is None) == (num is None):
        raise ValueError(f"{fn}: pass exactly one of 'ratio' and 'num', got ratio={ratio!r}, num={num!r}")
    if num is not None:
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError(f"{fn}: 'num' must be a positive int, got {num!r}")
        short = counts < num
        if bool(short.any()):
            b = int(short.nonzero()[0])
            raise ValueError(f"{fn}: example {b} has {int(counts[b])} points, fewer than num={num}")
        return torch.full_like(counts, num)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise ValueError(f"{fn}: 'ratio' must be a number in (0, 1], got {ratio!r}")
    return torch.ceil(counts.double() * ratio).long()


def check_point_cloud(owner: str, pos: Tensor, batch: Tensor | None = None, min_points: int = 1) -> None:
    """Raise a one-line error (starting with ``owner``) for positions that are not ``[N, 3]``-like
    finite floats, for an example with fewer than ``min_points`` points, or for duplicate points
    within an example (their relative position has no direction)."""
    check_points(owner, "pos", pos)
    batch = check_batch(owner, "batch", batch, pos, None)
    if pos.size(0) == 0:
        raise ValueError(f"{owner}: 'pos' holds no points")
    counts = torch.bincount(batch)
    present = counts[counts > 0]
    if int(present.min()) < min_points:
        b = int(((counts > 0) & (counts < min_points)).nonzero()[0])
        raise ValueError(f"{owner}: example {b} has {int(counts[b])} points, fewer than the "
                         f"{min_points} the model needs")
    keyed = torch.cat([batch[:, None].to(pos.dtype), pos.detach()], 1)
    if torch.unique(keyed, dim=0).size(0) < pos.size(0):
        raise ValueError(f"{owner}: 'pos' has duplicate points within an example; remove them "
                         f"(e.g. torch.unique per example) or sample the surface again")
