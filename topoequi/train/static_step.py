r"""The training step of :class:`~topoequi.models.SteerableMoleculeNet` on batches padded to a fixed budget
(:mod:`topoequi.loader.static_shapes`): every tensor of the forward and backward pass then has the same shape
at every batch, which a CUDA graph needs (:mod:`topoequi.train.cuda_graph`).

The padded forward pass is the model's own, block for block, with three differences that keep it exactly the
unpadded one on the real molecules:

- the radius graph and the edge attributes are built before padding (their sizes depend on the batch), then
  padded; padding edges join padding atoms only, farther apart than the cutoff;
- batch normalization takes its statistics over the real atoms only (``node_mask``): mean
  :math:`\mu = \sum_i m_i x_i / n`, biased variance :math:`\sum_i m_i (x_i - \mu)^2 / n` for the output, the
  unbiased one for the running estimate, as ``BatchNorm1d``; vector fields the mean square of their norm;
- the readout sums into one more graph, which holds the padding atoms and is dropped; the loss is the mean
  over the real graphs (``graph_mask``).
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from topoequi.loader.static_shapes import PaddedBatch, ShapeBudget, pad_batch


def molecule_sizes(dataset, cutoff: float, max_num_neighbors: int, sample: int | None = 2000,
                   seed: int = 0) -> tuple[Tensor, Tensor]:
    """Atoms and radius-graph edges of (a random ``sample`` of) the molecules of ``dataset``."""
    from torch_geometric.data import Batch

    from topoequi.graph import radius_graph

    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    order = order[:sample] if sample is not None else order
    atoms, edges = [], []
    for start in range(0, len(order), 256):
        batch = Batch.from_data_list([dataset[int(i)] for i in order[start:start + 256]])
        edge_index = radius_graph(batch.pos, r=cutoff, batch=batch.batch, max_num_neighbors=max_num_neighbors)
        atoms.append(torch.bincount(batch.batch, minlength=batch.num_graphs))
        edges.append(torch.bincount(batch.batch[edge_index[1]], minlength=batch.num_graphs))
    return torch.cat(atoms), torch.cat(edges)


def masked_batch_norm(norm, x: Tensor, mask: Tensor, count: Tensor) -> Tensor:
    """:class:`~topoequi.nn.EquivariantBatchNorm` ``norm`` on ``x`` with the statistics of the rows where
    ``mask`` is 1 (``count`` of them, at least 2, as a one-element tensor); running estimates updated alike."""
    from topoequi.nn.linear import split_entries

    if not norm.training:
        return norm(x)
    pieces, s, v = [], 0, 0
    weight = mask[:, None]
    for (psi, _, m), vec in zip(norm.in_rep.entries(), split_entries(x, norm.in_rep)):
        if psi == norm.trivial:
            flat = vec.flatten(-2)
            mean = (flat * weight).sum(0) / count
            centered = flat - mean
            var = (centered * centered * weight).sum(0) / count
            with torch.no_grad():
                norm.running_mean[s:s + m].lerp_(mean.detach(), norm.momentum)
                norm.running_var[s:s + m].lerp_(var.detach() * count / (count - 1), norm.momentum)
            scale = norm.scalar_weight[s:s + m].to(x.dtype) / torch.sqrt(var + norm.eps)
            pieces.append(centered * scale + norm.scalar_bias[s:s + m].to(x.dtype))
            s += m
            continue
        sq = (vec * vec * weight[:, :, None]).sum((0, 2)) / (count * psi.dim)
        with torch.no_grad():
            norm.running_sq[v:v + m].lerp_(sq.detach(), norm.momentum)
        scale = norm.vector_weight[v:v + m].to(x.dtype) / torch.sqrt(sq + norm.eps)
        pieces.append((vec * scale[:, None]).flatten(-2))
        v += m
    return torch.cat(pieces, -1)


def check_static_model(model) -> None:
    """Refuse (one-line ``TypeError``) a model the padded step cannot run."""
    from topoequi.models.steerable_molecule_net import SteerableMoleculeNet

    if not isinstance(model, SteerableMoleculeNet):
        raise TypeError(f"the padded training step runs a SteerableMoleculeNet (--model implicit or steerable), "
                        f"got {type(model).__name__}")


def pad_molecules(model, batch, budget: ShapeBudget) -> PaddedBatch | None:
    """``batch`` (a PyG ``Batch`` of molecules) with the model's radius graph and edge attributes, padded to
    ``budget``; ``None`` when it does not fit."""
    from topoequi.graph import radius_graph

    edge_index = radius_graph(batch.pos, r=model.cutoff, batch=batch.batch, max_num_neighbors=model.max_num_neighbors)
    edge_attr = model.edge_features(batch, edge_index) if model.edge_attributes else None
    return pad_batch(batch.z, batch.pos, batch.batch, edge_index, batch.y, batch.num_graphs, budget,
                     spacing=model.cutoff, edge_attr=edge_attr)


def padded_forward(model, padded: PaddedBatch, max_degree: int | None = None) -> Tensor:
    """The model's output on the real graphs of ``padded``: ``[budget graphs]`` (zero for empty slots);
    ``max_degree``: the padding width of the neighbourhood blocks (default: the model's ``max_num_neighbors``)."""
    pos, edge_index, static = padded.pos, padded.edge_index, padded.edge_attr
    max_degree = max_degree if max_degree is not None else model.max_num_neighbors
    f = model.interact(model.embedding(padded.z).to(pos.dtype), pos, edge_index, static, max_degree,
                       lambda norm, h: masked_batch_norm(norm, h, padded.node_mask, padded.real_atoms))
    atom_energy = model.head(f[:, model.invariant_index]).squeeze(-1)
    graphs = padded.graph_mask.shape[0]
    out = scatter(atom_energy, padded.batch, dim=0, dim_size=graphs + 1,
                  reduce="sum" if model.readout == "add" else "mean")
    return out[:graphs]


def padded_loss(loss_fn, out: Tensor, padded: PaddedBatch) -> tuple[Tensor, Tensor]:
    """The mean of ``loss_fn(out, padded)`` (per-graph losses) over the real graphs, and their sum."""
    total = (loss_fn(out, padded) * padded.graph_mask).sum()
    return total / padded.real_graphs.squeeze(0), total
