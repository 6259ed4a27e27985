r"""A lattice basis as a complete graph: nodes are basis vectors, edges carry Gram entries."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from topoequi.lattice.basis import check_basis
from topoequi.lattice.moves import (
    column_norms_after,
    norm_order_mask,
    pairwise_coefficients,
    projection_coefficients,
)

NODE_FEATURES = 3
EDGE_FEATURES = 9


def complete_graph_edge_index(num_graphs: int, num_nodes: int, device=None) -> Tensor:
    """Directed complete graphs without self-loops, ``[2, num_graphs * n * (n - 1)]``, edges in
    ``(graph, source, target)`` order (the order of ``dense[..., i, j]`` with ``i != j``)."""
    idx = torch.arange(num_nodes, device=device)
    src, dst = torch.meshgrid(idx, idx, indexing="ij")
    keep = src != dst
    offset = (torch.arange(num_graphs, device=device) * num_nodes)[:, None]
    return torch.stack([(src[keep][None] + offset).reshape(-1), (dst[keep][None] + offset).reshape(-1)])


def lattice_graph_features(gram: Tensor) -> dict[str, Tensor]:
    r"""Features of the basis graph, invariant to signed permutations (and to isometries and scale).

    With :math:`c_{ij} = G_{ij}/\sqrt{G_{ii}G_{jj}}`, :math:`\mu_{ij} = G_{ij}/G_{ii}`,
    projection coefficients :math:`P_{ij}` onto the shorter vectors (see
    :mod:`topoequi.lattice.moves`), :math:`\ell_i = \tfrac12\log G_{ii} - \tfrac1{2n}\log\det G`:

    * nodes ``x`` ``[..., n, 3]``: :math:`\ell_i`, rank of :math:`\lVert b_i\rVert` / (n-1), and
      :math:`\tfrac12\log(\lVert b_i - \pi_{\prec i} b_i\rVert^2 / G_{ii})`;
    * edges ``edge_attr`` ``[..., n, n, 9]`` for the move of :math:`b_j` by :math:`b_i`:
      :math:`|c_{ij}|`, :math:`[i \prec j]`, :math:`|\mu_{ij}|`, distance of :math:`\mu_{ij}` to
      the nearest integer, :math:`|P_{ij}|` and its distance to the nearest integer, the relative
      gain :math:`(2kG_{ij} - k^2 G_{ii})/G_{jj}` of the Gauss move with :math:`k=\lfloor\mu_{ij}\rceil`,
      the triangle term :math:`c_{ij}(C^2)_{ij}/n` and :math:`\ell_i - \ell_j`.

    The sign-carrying quantities ``mu`` and ``projection`` (which transform like :math:`G_{ij}`)
    and the order ``mask`` are returned too, for the output head.
    """
    n = gram.shape[-1]
    diag = torch.diagonal(gram, dim1=-2, dim2=-1)
    logdet = torch.linalg.slogdet(gram)[1]
    ell = 0.5 * torch.log(diag) - logdet[..., None] / (2 * n)
    mask = norm_order_mask(gram)
    rank = mask.sum(-2).to(gram.dtype) / max(n - 1, 1)
    proj = projection_coefficients(gram, mask)
    residual = column_norms_after(gram, -proj) / diag
    cos = gram / torch.sqrt(diag[..., :, None] * diag[..., None, :])
    mu = pairwise_coefficients(gram)
    k = torch.round(mu)
    gain = (2 * k * gram - k * k * diag[..., :, None]) / diag[..., None, :]
    triangle = cos * (cos @ cos) / n
    x = torch.stack([ell, rank, 0.5 * torch.log(residual.clamp_min(1e-300))], -1)
    edge = torch.stack([cos.abs(), mask.to(gram.dtype), mu.abs(), (mu - k).abs(), proj.abs(),
                        (proj - torch.round(proj)).abs(), gain, triangle,
                        ell[..., :, None] - ell[..., None, :]], -1)
    return {"x": x, "edge_attr": edge, "mask": mask, "mu": mu, "projection": proj}


def gram_of(basis: Tensor) -> Tensor:
    """:math:`B^\\top B` in float64 (basis vectors are columns)."""
    b = basis.to(torch.float64)
    return b.transpose(-1, -2) @ b


class LatticeGraph(BaseTransform):
    r"""Turns ``data.basis`` (``[n, n]``, columns are basis vectors) into a complete graph.

    Sets ``x`` ``[n, 3]``, ``edge_index`` ``[2, n(n-1)]``, ``edge_attr`` ``[n(n-1), 9]`` (see
    :func:`lattice_graph_features`, all invariant to :math:`O(n)`, scale and signed
    permutations of the basis vectors) and ``gram`` ``[1, n, n]`` (float64, so that a
    :class:`~torch_geometric.data.Batch` of equal-dimension lattices stacks to ``[B, n, n]``).

    Args:
        dtype (torch.dtype, optional): dtype of ``x`` and ``edge_attr``. (default: ``torch.float32``)
    """

    def __init__(self, dtype: torch.dtype = torch.float32) -> None:
        self.dtype = dtype

    def forward(self, data: Data) -> Data:
        basis = getattr(data, "basis", None)
        if not isinstance(basis, Tensor):
            raise TypeError("LatticeGraph expects data.basis, a [n, n] tensor with basis vectors as columns")
        if basis.ndim != 2 or basis.shape[0] != basis.shape[1] or basis.shape[0] < 2:
            raise ValueError(f"LatticeGraph expects data.basis of shape [n, n] with n >= 2, got {tuple(basis.shape)}")
        check_basis(basis, "LatticeGraph: data.basis")
        gram = gram_of(basis)
        n = basis.shape[0]
        feats = lattice_graph_features(gram[None])
        off = ~torch.eye(n, dtype=torch.bool)
        data.x = feats["x"][0].to(self.dtype)
        data.edge_index = complete_graph_edge_index(1, n)
        data.edge_attr = feats["edge_attr"][0][off].to(self.dtype)
        data.gram = gram[None]
        data.num_nodes = n
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(dtype={self.dtype})"

