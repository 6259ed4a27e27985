"""Shared machinery of the steerable point convolutions."""
from __future__ import annotations

import os

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from topoequi.nn.bilinear import EquivariantBilinear
from topoequi.nn.group_likelihood import GroupLikelihood
from topoequi.nn.radial import cosine_cutoff
from topoequi.symmetry import Rep
from topoequi.validation import check_values


def in_degree(dst: Tensor, num_nodes: int) -> Tensor:
    """Edges into each node, counted without reading anything back to the host (``bincount`` does on CUDA)."""
    return torch.zeros(num_nodes, dtype=torch.long, device=dst.device).index_add_(0, dst, torch.ones_like(dst))


def outer_aggregate(kernel: Tensor, x: Tensor, edge_index: Tensor, num_nodes: int,
                    max_degree: int | None = None) -> Tensor:
    r""":math:`A_i = \sum_{j \to i} h_{ji} \otimes x_j` for all nodes, as one batched matrix product.

    Each neighbourhood is padded to the largest degree :math:`D` (the slot of
    edge :math:`e` at its target is its rank among the edges into that target;
    empty slots read an appended zero row), so :math:`A = H^\top F` with
    :math:`H: [N, D, d_h]`, :math:`F: [N, D, d_x]` gathered straight from
    ``kernel`` and ``x``; no per-edge matrix is materialized. On an accelerator a
    known bound ``max_degree`` (e.g. the radius graph's ``max_num_neighbors``) is the
    padding width, so the shapes are fixed and nothing is read back to the host;
    on the CPU the exact largest degree is cheaper.
    """
    src, dst = edge_index
    num_edges = dst.numel()
    if num_edges == 0:
        return x.new_zeros(num_nodes, kernel.shape[1], x.shape[1])
    order = torch.argsort(dst, stable=True)
    dst_sorted = dst.index_select(0, order)
    degree = in_degree(dst_sorted, num_nodes)
    slot = torch.arange(num_edges, device=dst.device) - (torch.cumsum(degree, 0) - degree).index_select(0, dst_sorted)
    width = max_degree if max_degree is not None and dst.device.type != "cpu" else int(degree.max())
    edge_at = torch.full((num_nodes, width), num_edges, dtype=torch.long, device=dst.device)
    edge_at[dst_sorted, slot] = order
    edge_at = edge_at.view(-1)
    source_at = torch.cat([src, src.new_full((1,), num_nodes)]).index_select(0, edge_at)
    h = torch.cat([kernel, kernel.new_zeros(1, kernel.shape[1])]).index_select(0, edge_at)
    f = torch.cat([x, x.new_zeros(1, x.shape[1])]).index_select(0, source_at)
    return torch.bmm(h.view(num_nodes, -1, kernel.shape[1]).transpose(1, 2), f.view(num_nodes, -1, x.shape[1]))


def aggregate(kernel: Tensor, x: Tensor, edge_index: Tensor, num_nodes: int, max_degree: int | None) -> Tensor:
    """:func:`outer_aggregate`, or its Triton kernel when asked for with ``TOPOEQUI_TRITON=1`` (Triton is
    imported only then: see :mod:`topoequi.kernels.outer_aggregate_triton`)."""
    if os.environ.get("TOPOEQUI_TRITON", "0") not in ("", "0"):
        from topoequi.kernels import outer_aggregate_triton as triton_kernels

        if triton_kernels.enabled(x):
            return triton_kernels.outer_aggregate_triton(kernel, x, edge_index, num_nodes)
    return outer_aggregate(kernel, x, edge_index, num_nodes, max_degree)


class SteerableMessagePassing(MessagePassing):
    r"""Base of the steerable point convolutions

    .. math::
        f'_i = \sum_{j \in \mathcal{N}(i)} K(x_j - x_i, z_{ij})\, f_j ,
        \qquad K(x, z)\, f = W\big(h(x, z) \otimes f\big),

    where :math:`h(x, z)` are equivariant kernel features of the edge (times a
    smooth cutoff envelope) and :math:`W` an equivariant bilinear map
    (:class:`~topoequi.nn.EquivariantBilinear`). Because :math:`W` is linear,
    :math:`f'_i = W(\sum_j h_{ij} \otimes f_j)`: the outer products are summed
    per node by one batched matrix product and :math:`W` runs once per node,
    never as a ``d_out x d_in`` matrix per edge. Subclasses define
    :meth:`kernel_features` and ``kernel_rep``, build their parts inside
    :func:`~topoequi.nn.initialization.drawn_again_by_reset` and end ``__init__`` with
    ``reset_parameters()``.

    With a :class:`~topoequi.nn.GroupLikelihood` :math:`\lambda` over a subgroup
    :math:`K \le G` (`"A Probabilistic Approach to Learning the Degree of Equivariance"
    <https://arxiv.org/abs/2406.03946>`_), the kernel is relaxed to the
    :math:`\lambda`-weighted group average of an unconstrained kernel
    :math:`k_0(x) f = W_0(h(x) \otimes f)` (:math:`W_0` any linear map):

    .. math::
        k_\lambda(x) = \int_K \lambda(g)\, \rho_{out}(g)\, k_0(g^{-1}x)\, \rho_{in}(g)^{-1}\, dg
        = W_\lambda\big(h(x) \otimes \cdot\big),
        \quad W_\lambda = \sum_s w_s\, \rho_{out}(g_s)\, W_0\,
        \big(\rho_h(g_s) \otimes \rho_{in}(g_s)\big)^{-1},

    exact because the features are equivariant, :math:`h(g^{-1}x) = \rho_h(g)^{-1} h(x)`.
    The average acts on the parameters only: it costs :math:`S` products of
    parameter-sized matrices per forward, independent of the graph, and the
    per-node work is one dense product, as unrelaxed. A uniform :math:`\lambda`
    projects :math:`W_0` onto the :math:`K`-equivariant maps (the grid must
    integrate every frequency of :math:`\rho_{out} \otimes \rho_h \otimes \rho_{in}`
    exactly); :math:`K = C_1` gives the unconstrained (non-equivariant) layer.

    Args:
        in_rep (Rep): input feature representation.
        out_rep (Rep): output feature representation.
        kernel_rep (Rep): representation of the kernel features (irreps basis).
        cutoff (float): radius beyond which the kernel vanishes.
        edge_rep (Rep, optional): representation of ``edge_attr``. (default: ``None``)
        aggr (str, optional): PyG's aggregation of the messages :math:`h_{ij} \otimes f_j`, ``"add"`` or
            ``"mean"`` (the linear ones: others, such as ``"max"``, break equivariance). (default: ``"add"``)
        bias (bool, optional): learn a bias on the invariant outputs. (default: ``True``)
        fused (bool, optional): aggregate outer products by a batched matrix product
            (``True``) or by PyG's ``propagate`` with per-edge messages. (default: ``True``)
        likelihood (GroupLikelihood, optional): relax the kernel with this likelihood
            over a subgroup of the group (may be shared between layers). (default: ``None``)
    """

    def __init__(self, in_rep: Rep, out_rep: Rep, kernel_rep: Rep, cutoff: float,
                 edge_rep: Rep | None = None, aggr: str = "add", bias: bool = True, fused: bool = True,
                 likelihood: GroupLikelihood | None = None):
        name = type(self).__name__
        if aggr not in ("add", "mean"):
            raise ValueError(f"{name}: aggr must be 'add' or 'mean', got {aggr!r}")
        if in_rep.group != out_rep.group:
            raise ValueError(f"{name}: in_rep is of {in_rep.group}, out_rep of {out_rep.group}")
        if edge_rep is not None and edge_rep.group != in_rep.group:
            raise ValueError(f"{name}: edge_rep is of {edge_rep.group}, expected {in_rep.group}")
        if not cutoff > 0:
            raise ValueError(f"{name}: cutoff must be positive, got {cutoff}")
        super().__init__(aggr=aggr, node_dim=0)
        self.in_rep, self.out_rep, self.edge_rep = in_rep, out_rep, edge_rep
        self.group = in_rep.group
        self.cutoff, self.fused = float(cutoff), fused
        self.likelihood = likelihood
        if likelihood is None:
            self.bilinear = EquivariantBilinear(kernel_rep, Rep(in_rep.group, in_rep.irreps), out_rep)
        else:
            self._init_relaxed(kernel_rep, likelihood)
        num_bias = out_rep.num_invariants if bias else 0
        self.bias = torch.nn.Parameter(torch.zeros(num_bias)) if num_bias else None
        if self.bias is not None:
            self.register_buffer("bias_basis", out_rep.invariant_basis(),
                                 persistent=False)

    def _init_relaxed(self, kernel_rep: Rep, likelihood: GroupLikelihood) -> None:
        name = type(self).__name__
        if not isinstance(likelihood, GroupLikelihood):
            raise TypeError(f"{name}: likelihood must be a GroupLikelihood, got {type(likelihood).__name__}")
        grid = likelihood.grid.to(torch.float64)
        if likelihood.group.d != self.group.d or not bool(self.group.contains(grid).all()):
            raise ValueError(f"{name}: likelihood is over {likelihood.group}, which is not a subgroup of {self.group}")
        reps = {"rho_out": self.out_rep, "rho_kernel": kernel_rep, "rho_in": Rep(self.group, self.in_rep.irreps)}
        top = sum(max((psi.frequency for psi, _ in r.irreps), default=0) for r in reps.values())
        sub = likelihood.group
        if not sub.is_finite:  # the grid must integrate every frequency the average meets
            for psi in sub.irreps(top)[1:]:
                if psi.matrices(grid).mean(0).abs().max() > 1e-9:
                    raise ValueError(f"{name}: the likelihood's grid of {likelihood.num_samples} elements of {sub} "
                                     f"does not integrate frequency {psi.frequency} exactly; the kernel needs up to "
                                     f"{top}: use a larger grid_size")
        for key, r in reps.items():
            self.register_buffer(key, r.matrices(grid), persistent=False)
        self.bilinear = None
        self.relaxed_weight = torch.nn.Parameter(torch.empty(self.out_rep.dim, kernel_rep.dim, self.in_rep.dim))

    def kernel_weight(self, weights: Tensor | None = None) -> Tensor:
        r"""The relaxed bilinear map :math:`W_\lambda` ``[d_out, d_h, d_in]`` (relaxed layers only), or the
        average with other ``weights`` ``[S]`` on the likelihood's grid (uniform ones: the projection
        of :math:`W_0` onto the equivariant maps)."""
        if self.likelihood is None:
            raise ValueError(f"{type(self).__name__}: kernel_weight exists only with a likelihood")
        w0 = self.relaxed_weight
        if weights is None:
            weights = self.likelihood.weights()
        elif weights.shape != (self.likelihood.num_samples,):
            raise ValueError(f"{type(self).__name__}: weights must be [{self.likelihood.num_samples}], "
                             f"got {list(weights.shape)}")
        t = torch.einsum("soO,Oab->soab", self.rho_out.to(w0.dtype), w0)
        t = torch.einsum("saA,soAb->soab", self.rho_kernel.to(w0.dtype), t)
        return torch.einsum("s,sbB,soaB->oab", weights.to(w0.dtype), self.rho_in.to(w0.dtype), t)

    def kernel_features(self, rel: Tensor, length: Tensor, edge_attr: Tensor | None) -> Tensor:
        """Equivariant features ``[E, kernel_rep.dim]`` of the edge vectors ``rel = x_j - x_i``."""
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """The layer's own parameters; the likelihood, an argument that layers may share, keeps its state."""
        super().reset_parameters()
        if self.likelihood is None:
            self.bilinear.reset_parameters()
        else:
            _, d_h, d_in = shape = self.relaxed_weight.shape
            with torch.no_grad():
                self.relaxed_weight.copy_(torch.randn(shape) / (d_h * d_in) ** 0.5)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def _check(self, x: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> None:
        name, d = type(self).__name__, self.group.d
        for arg, value in (("x", x), ("pos", pos)):
            if not isinstance(value, Tensor) or not value.is_floating_point():
                raise TypeError(f"{name}: {arg} must be a floating-point tensor")
        if x.dim() != 2 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"{name}: x must be [N, {self.in_rep.dim}] (in_rep {self.in_rep}), got {list(x.shape)}")
        if pos.dim() != 2 or pos.shape != (x.shape[0], d):
            raise ValueError(f"{name}: pos must be [N, {d}] for {self.group} with N = {x.shape[0]}, "
                             f"got {list(pos.shape)}")
        if pos.dtype != x.dtype or pos.device != x.device:
            raise TypeError(f"{name}: pos ({pos.dtype}, {pos.device}) must match x ({x.dtype}, {x.device})")
        if check_values(pos) and not bool(torch.isfinite(pos).all()):
            raise ValueError(f"{name}: pos contains NaN or infinite coordinates")
        if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.dtype != torch.long:
            raise ValueError(f"{name}: edge_index must be a [2, E] long tensor, got {list(edge_index.shape)} "
                             f"{edge_index.dtype}")
        if check_values(edge_index) and edge_index.numel() and (
                int(edge_index.min()) < 0 or int(edge_index.max()) >= x.shape[0]):
            raise ValueError(f"{name}: edge_index refers to nodes outside [0, {x.shape[0]})")
        if (edge_attr is None) != (self.edge_rep is None):
            raise ValueError(f"{name}: edge_attr must be given exactly when edge_rep was set "
                             f"(edge_rep={self.edge_rep})")
        if edge_attr is not None:
            if edge_attr.shape != (edge_index.shape[1], self.edge_rep.dim):
                raise ValueError(f"{name}: edge_attr must be [E, {self.edge_rep.dim}] with E = "
                                 f"{edge_index.shape[1]}, got {list(edge_attr.shape)}")
            if check_values(edge_attr) and not bool(torch.isfinite(edge_attr).all()):
                raise ValueError(f"{name}: edge_attr contains NaN or infinite values")

    def forward(self, x: Tensor, pos: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                max_degree: int | None = None) -> Tensor:
        """``max_degree``: a bound on the in-degree of every node (fixed shapes on an accelerator)."""
        self._check(x, pos, edge_index, edge_attr)
        num_nodes = x.shape[0]
        x = self.in_rep.to_irreps_basis(x)
        src, dst = edge_index
        rel = pos[src] - pos[dst]
        sq = (rel * rel).sum(-1)
        length = torch.where(sq > 0, torch.sqrt(torch.where(sq > 0, sq, torch.ones_like(sq))), torch.zeros_like(sq))
        if edge_attr is not None:
            edge_attr = self.edge_rep.to_irreps_basis(edge_attr)
        kernel = self.kernel_features(rel, length, edge_attr) * cosine_cutoff(length, self.cutoff)[:, None]
        if self.fused:
            a = aggregate(kernel, x, edge_index, num_nodes, max_degree)
            if self.aggr == "mean":
                a = a / in_degree(dst, num_nodes).clamp_min(1).to(a.dtype)[:, None, None]
        else:
            a = self.propagate(edge_index, x=x, kernel=kernel, size=(num_nodes, num_nodes))
            a = a.view(num_nodes, kernel.shape[1], x.shape[1])
        if self.likelihood is None:
            out = self.bilinear(a)
        else:
            out = torch.einsum("nab,oab->no", a, self.kernel_weight().to(a.dtype))
        if self.bias is not None:
            out = out + self.bias.to(out.dtype) @ self.bias_basis.to(out.dtype).T
        return out

    def message(self, x_j: Tensor, kernel: Tensor) -> Tensor:
        return (kernel[:, :, None] * x_j[:, None, :]).flatten(1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_rep} -> {self.out_rep}, group={self.group}, cutoff={self.cutoff})"
