r"""Sheaf coboundary and sheaf Laplacian in a flat block layout.

Cochains are ``[N, d]`` (one width-``d`` stalk per vertex, zero-padded). For
an edge :math:`e = (u, v)`, :math:`u < v`, the coboundary is
:math:`(\delta x)_e = F_{v \le e} x_v - F_{u \le e} x_u` and the Laplacian
:math:`L = \delta^\top \delta` has the blocks
:math:`L_{vv} = \sum_{e \ni v} F_{v \le e}^\top F_{v \le e}` and
:math:`L_{uv} = -F_{u \le e}^\top F_{v \le e}`. The normalised Laplacian is
:math:`D^{-1/2} L D^{-1/2}` with :math:`D` the diagonal of :math:`L`
(a pseudo-inverse: coordinates no edge reaches stay zero); it is the
diagonal variant of Neural Sheaf Diffusion's block-diagonal normalisation.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _check(edges: Tensor, restriction: Tensor, num_nodes: int) -> None:
    if edges.dim() != 2 or edges.size(1) != 2:
        raise ValueError(f"edges must have shape [E, 2], got {list(edges.shape)}")
    if restriction.dim() != 4 or restriction.size(0) != edges.size(0) or restriction.size(1) != 2:
        raise ValueError(f"restriction must have shape [E, 2, d, d] with E = {edges.size(0)}, "
                         f"got {list(restriction.shape)}")
    if edges.numel() and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(f"edges hold vertex ids outside [0, {num_nodes})")


def coboundary(x: Tensor, edges: Tensor, restriction: Tensor) -> Tensor:
    r""":math:`(\delta x)_e = F_{v \le e} x_v - F_{u \le e} x_u`; ``x`` is ``[N, d]`` or ``[N, d, C]``."""
    _check(edges, restriction, x.size(0))
    xs = x if x.dim() == 3 else x.unsqueeze(-1)
    out = restriction[:, 1] @ xs[edges[:, 1]] - restriction[:, 0] @ xs[edges[:, 0]]
    return out if x.dim() == 3 else out.squeeze(-1)


def laplacian_diagonal(edges: Tensor, restriction: Tensor, num_nodes: int) -> Tensor:
    """Diagonal of :math:`L`, ``[N, d]``: column norms of the restriction maps, summed per vertex."""
    _check(edges, restriction, num_nodes)
    col = restriction.pow(2).sum(-2)                                # [E, 2, d]
    out = restriction.new_zeros(num_nodes, restriction.size(-1))
    out.index_add_(0, edges[:, 0], col[:, 0])
    out.index_add_(0, edges[:, 1], col[:, 1])
    return out


def sheaf_laplacian(edges: Tensor, restriction: Tensor, num_nodes: int,
                    normalized: bool = False) -> Tensor:
    """The sheaf Laplacian as a sparse COO ``[N d, N d]`` tensor (block ``(v, w)`` at rows ``v d ...``).

    Args:
        edges (LongTensor ``[E, 2]``): sorted edges ``u < v``.
        restriction (Tensor ``[E, 2, d, d]``): ``F_{u<=e}``, ``F_{v<=e}``.
        num_nodes (int): number of vertices.
        normalized (bool): return :math:`D^{-1/2} L D^{-1/2}`. (default: ``False``)
    """
    _check(edges, restriction, num_nodes)
    d = restriction.size(-1)
    fu, fv = restriction[:, 0], restriction[:, 1]
    guv = -fu.transpose(1, 2) @ fv
    blocks = torch.cat([fu.transpose(1, 2) @ fu, fv.transpose(1, 2) @ fv, guv, guv.transpose(1, 2)])
    u, v = edges[:, 0], edges[:, 1]
    row_v = torch.cat([u, v, u, v])
    col_v = torch.cat([u, v, v, u])
    ar = torch.arange(d, device=edges.device)
    rows = (row_v[:, None, None] * d + ar[None, :, None]).expand_as(blocks)
    cols = (col_v[:, None, None] * d + ar[None, None, :]).expand_as(blocks)
    lap = torch.sparse_coo_tensor(torch.stack([rows.reshape(-1), cols.reshape(-1)]), blocks.reshape(-1),
                                  (num_nodes * d, num_nodes * d), check_invariants=False).coalesce()
    lap = ((lap + lap.t()) / 2).coalesce()        # symmetric bitwise, not only up to rounding
    if not normalized:
        return lap
    diag = laplacian_diagonal(edges, restriction, num_nodes).reshape(-1)
    inv = torch.where(diag > 0, diag.clamp(min=torch.finfo(diag.dtype).tiny).rsqrt(), torch.zeros_like(diag))
    i, j = lap.indices()
    return torch.sparse_coo_tensor(lap.indices(), inv[i] * lap.values() * inv[j], lap.shape,
                                   check_invariants=False).coalesce()
