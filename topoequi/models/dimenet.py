"""PyG's DimeNet++ with topoequi's radius graph and triplets built without torch-sparse."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.models import dimenet as pyg_dimenet
from torch_geometric.utils import scatter

from topoequi.graph import radius_graph


def triplets(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, ...]:
    r"""All paths :math:`k \to j \to i` with :math:`k \neq i` along directed edges.

    ``edge_index[0]`` is the source :math:`j` and ``edge_index[1]`` the target
    :math:`i` of each edge :math:`j \to i`. For every edge :math:`j \to i` the
    edges :math:`k \to j` are found in the edge list sorted by (target, source),
    so no sparse-tensor library is needed; the output matches PyG's
    ``torch_sparse``-based ``triplets`` (same order). Chosen over an optional
    torch-sparse extra because torch-sparse has no wheels on PyPI (a source
    build takes minutes and a compiler) while this costs one ``argsort`` and
    a few ``repeat_interleave`` per batch.

    Returns:
        ``(i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji)``: the edges' targets and
        sources, the three atoms of every triplet and the positions in
        ``edge_index`` of its edges :math:`k \to j` and :math:`j \to i`.
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"triplets: edge_index must have shape [2, E], got {list(edge_index.shape)}")
    row, col = edge_index  # j -> i
    num_edges = row.numel()
    by_target = torch.argsort(col * num_nodes + row)  # incoming edges of each atom, by source
    in_degree = torch.bincount(col, minlength=num_nodes)
    start = torch.cumsum(in_degree, 0) - in_degree
    count = in_degree[row]  # edges k -> j for each edge j -> i
    idx_ji = torch.arange(num_edges, device=row.device).repeat_interleave(count)
    first = torch.cumsum(count, 0) - count
    offset = torch.arange(idx_ji.numel(), device=row.device) - first.repeat_interleave(count)
    idx_kj = by_target[start[row].repeat_interleave(count) + offset]
    idx_i, idx_j, idx_k = col[idx_ji], row[idx_ji], row[idx_kj]
    keep = idx_i != idx_k
    return (col, row, idx_i[keep], idx_j[keep], idx_k[keep], idx_kj[keep], idx_ji[keep])


class DimeNetPlusPlus(pyg_dimenet.DimeNetPlusPlus):
    r"""DimeNet++ from `"Fast and Uncertainty-Aware Directional Message Passing for
    Non-Equilibrium Molecules" <https://arxiv.org/abs/2011.14115>`_: PyG's
    :class:`~torch_geometric.nn.models.DimeNetPlusPlus` with its two compiled
    dependencies replaced, the radius graph by :func:`topoequi.graph.radius_graph`
    and the triplets by :func:`triplets` (pure torch). Messages live on directed
    edges and are updated from the triplets :math:`k \to j \to i` with the angle
    :math:`\alpha_{kji}`:

    .. math::
        \mathbf{m}_{ji}' = f\Big(\mathbf{m}_{ji}, \sum_{k \neq i}
        \mathbf{m}_{kj} \odot a(\mathrm{rbf}(d_{kj}), \mathrm{sbf}(d_{kj}, \alpha_{kji}))\Big)

    Args: as :class:`torch_geometric.nn.models.DimeNetPlusPlus`.

    Shapes:
        - **input:** ``z`` :math:`(|\mathcal{V}|)`, ``pos`` :math:`(|\mathcal{V}|, 3)`,
          ``batch`` :math:`(|\mathcal{V}|)`
        - **output:** :math:`(|\mathcal{G}|, \text{out\_channels})`
    """

    def forward(self, z: Tensor, pos: Tensor, batch: Tensor | None = None) -> Tensor:
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch,
                                  max_num_neighbors=self.max_num_neighbors)
        i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, num_nodes=z.size(0))
        dist = (pos[i] - pos[j]).pow(2).sum(dim=-1).sqrt()
        # angle at j between j -> i and k -> j, as DimeNet++ defines it
        pos_jk, pos_ij = pos[idx_j] - pos[idx_k], pos[idx_i] - pos[idx_j]
        angle = torch.atan2(torch.cross(pos_ij, pos_jk, dim=1).norm(dim=-1),
                            (pos_ij * pos_jk).sum(dim=-1))
        rbf = self.rbf(dist)
        sbf = self.sbf(dist, angle, idx_kj)
        x = self.emb(z, rbf, i, j)
        out = self.output_blocks[0](x, rbf, i, num_nodes=pos.size(0))
        for interaction, output in zip(self.interaction_blocks, self.output_blocks[1:]):
            x = interaction(x, rbf, sbf, idx_kj, idx_ji)
            out = out + output(x, rbf, i, num_nodes=pos.size(0))
        if batch is None:
            return out.sum(dim=0)
        return scatter(out, batch, dim=0, reduce="sum")
