"""Compiled radius / k-NN searches from pyg-lib or torch-cluster, when installed.

Their results are brought to topoequi's canonical form (sorted by query, then
by index for radius, by distance then index for k-NN) and accepted only when
that form is unambiguous: a radius search is asked for two neighbours more
than the cap, and a k-NN search for one more than ``k``, so a query whose
result could depend on the library's traversal order (more neighbours than
the cap, or a tie at the k-th distance) is detected, and the caller then runs
the pure-torch search.  The output is therefore identical with and without
the compiled libraries.  ``ENABLED = False`` turns them off.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from topoequi.typing import WITH_PYG_LIB, WITH_TORCH_CLUSTER

ENABLED = True


def _pyg_lib_ops() -> tuple[Callable | None, Callable | None]:
    if not WITH_PYG_LIB:
        return None, None
    import torch_geometric.typing as pyg_typing
    from torch_geometric.nn import pool

    return (pool.radius if getattr(pyg_typing, "WITH_RADIUS", False) else None,
            pool.knn if getattr(pyg_typing, "WITH_KNN", False) else None)


def _torch_cluster_ops() -> tuple[Callable | None, Callable | None]:
    if not WITH_TORCH_CLUSTER:
        return None, None
    import torch_cluster

    return torch_cluster.radius, torch_cluster.knn


def backends() -> tuple[Callable | None, Callable | None]:
    """``(radius, knn)`` with signatures ``(x, y, r_or_k, batch_x, batch_y, ...)``, or ``None``."""
    if not ENABLED:
        return None, None
    radius_op, knn_op = _pyg_lib_ops()
    cluster_radius, cluster_knn = _torch_cluster_ops()
    return radius_op or cluster_radius, knn_op or cluster_knn


def radius(x: Tensor, y: Tensor, r: float, batch_x: Tensor, batch_y: Tensor, cap: int,
           ignore_self: bool) -> Tensor | None:
    """Canonical radius pairs ``[2, E]`` (row 0 indexes ``y``), or ``None`` to fall back."""
    op = backends()[0]
    if op is None:
        return None
    row, col = op(x, y, r, batch_x, batch_y, cap + 2)
    if ignore_self:
        keep = row != col
        row, col = row[keep], col[keep]
    order = torch.argsort(row * x.size(0) + col)
    row, col = row[order], col[order]
    if row.numel() > 0 and int(torch.bincount(row).max()) > cap:
        return None
    return torch.stack([row, col])


def knn(x: Tensor, y: Tensor, k: int, batch_x: Tensor, batch_y: Tensor, cosine: bool,
        ignore_self: bool, distance: Callable[[Tensor, Tensor], Tensor]) -> Tensor | None:
    """Canonical k-NN pairs ``[2, E]`` (row 0 indexes ``y``), or ``None`` to fall back.

    ``distance(col, row)`` is the caller's distance per pair, used for the
    canonical order so ties are broken exactly as the pure-torch search does.
    """
    op = backends()[1]
    if op is None:
        return None
    asked = k + 1 + int(ignore_self)
    row, col = op(x, y, asked, batch_x, batch_y, cosine)
    if ignore_self:
        keep = row != col
        row, col = row[keep], col[keep]
    order = torch.argsort(row * x.size(0) + col)
    row, col = row[order], col[order]
    dist = distance(col, row)
    order = torch.sort(dist, stable=True).indices
    order = order[torch.sort(row[order], stable=True).indices]
    row, col, dist = row[order], col[order], dist[order]
    counts = torch.bincount(row, minlength=y.size(0))
    rank = torch.arange(row.numel(), device=row.device) - (counts.cumsum(0) - counts)[row]
    kth = rank == k - 1
    after = rank == k
    kth_dist = torch.full((y.size(0),), float("nan"), dtype=dist.dtype, device=dist.device)
    kth_dist[row[kth]] = dist[kth]
    if bool((dist[after] == kth_dist[row[after]]).any()):
        return None
    keep = rank < k
    return torch.stack([row[keep], col[keep]])
