r"""Molecule batches padded to fixed budgets of graphs, atoms and edges, so that a training step has the same
shapes at every batch (what a CUDA graph, captured once and replayed, requires).

A batch of :math:`B \le G` graphs with :math:`N` atoms and :math:`E` edges (any edge list, e.g. the radius
graph) is laid out in a :class:`ShapeBudget` of :math:`G` graphs, :math:`A` atoms and :math:`M` edges:

- atoms :math:`0 \dots N-1` are the batch's, in order; the :math:`P = A - N` padding atoms after them
  belong to one extra graph :math:`G` (dropped from every output), have atomic number 0 and lie on a
  line, :math:`3 r` apart (:math:`r` the ``spacing`` argument, the model's cutoff);
- edges :math:`0 \dots E-1` are the batch's; padding edge :math:`k` runs from padding atom
  :math:`(k + 1) \bmod P` to padding atom :math:`k \bmod P`. No padding edge touches a real atom, every
  padding edge is at least :math:`3 r` long (a kernel with a cutoff envelope vanishes on it), and a padding
  atom receives at most :math:`\lceil (M - E) / P \rceil` edges, kept within ``max_degree``;
- graphs :math:`B \dots G-1` are empty; ``graph_mask`` marks the :math:`B` real ones.

Real atoms therefore receive exactly the messages they receive unpadded; what is averaged over atoms (batch
norm statistics) must use ``node_mask``, and what is averaged over graphs (the loss) ``graph_mask``.

:func:`choose_budget` sizes the budget from per-molecule atom and edge counts: the sum of :math:`B`
sizes drawn from the data has mean :math:`B\mu` and standard deviation at most :math:`\sqrt{B}\,\sigma`
(less when drawn without replacement), so ``sigmas`` standard deviations of slack leave out only rare
batches; :func:`pad_batch` returns ``None`` for those, and the caller runs them unpadded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
from torch import Tensor


@dataclass(frozen=True)
class ShapeBudget:
    """Fixed sizes of a padded batch: ``graphs`` (real graphs at most), ``atoms`` and ``edges`` (in all,
    padding included) and ``max_degree`` (the most edges any atom may receive)."""

    graphs: int
    atoms: int
    edges: int
    max_degree: int

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ShapeBudget: {f.name} must be a positive integer, got {value!r}")
        if self.atoms < 3:
            raise ValueError(f"ShapeBudget: atoms must be at least 3 (two are padding), got {self.atoms}")


def choose_budget(atom_counts: Tensor, edge_counts: Tensor, batch_size: int, max_degree: int,
                  sigmas: float = 4.0) -> ShapeBudget:
    """A budget for batches of ``batch_size`` molecules whose atom and edge counts are like ``atom_counts`` and
    ``edge_counts`` (one entry per molecule, e.g. a random sample of the training set): means plus ``sigmas``
    standard deviations of the batch sums, and enough padding atoms to take the spare edges."""
    atom_counts, edge_counts = atom_counts.double().flatten(), edge_counts.double().flatten()
    if atom_counts.numel() < 2 or atom_counts.shape != edge_counts.shape:
        raise ValueError("choose_budget: atom_counts and edge_counts need the same length, at least 2")
    if not sigmas >= 0:
        raise ValueError(f"choose_budget: sigmas must be >= 0, got {sigmas!r}")
    root = math.sqrt(batch_size)
    edges = math.ceil(batch_size * float(edge_counts.mean()) + sigmas * root * float(edge_counts.std()))
    spare_edges = 2 * sigmas * root * float(edge_counts.std())  # a batch with few atoms also has few edges
    atoms = math.ceil(batch_size * float(atom_counts.mean()) + sigmas * root * float(atom_counts.std()))
    return ShapeBudget(batch_size, atoms + math.ceil(spare_edges / max_degree) + 2, max(edges, 1), max_degree)


@dataclass
class PaddedBatch:
    """A batch laid out in a :class:`ShapeBudget` (see the module); ``num_graphs``, ``num_atoms``,
    ``num_edges`` are the real counts (host integers), ``real_atoms`` / ``real_graphs`` the same as
    one-element tensors for computations that must not read the host."""

    z: Tensor
    pos: Tensor
    batch: Tensor
    node_mask: Tensor
    edge_index: Tensor
    edge_attr: Tensor | None
    y: Tensor
    graph_mask: Tensor
    real_atoms: Tensor
    real_graphs: Tensor
    num_graphs: int
    num_atoms: int
    num_edges: int

    TENSORS = ("z", "pos", "batch", "node_mask", "edge_index", "edge_attr", "y", "graph_mask", "real_atoms",
               "real_graphs")

    def copy_(self, other: PaddedBatch) -> PaddedBatch:
        """Write ``other``'s values into this batch's tensors (same budget): static inputs stay in place."""
        for name in self.TENSORS:
            mine = getattr(self, name)
            if mine is not None:
                mine.copy_(getattr(other, name), non_blocking=True)
        self.num_graphs, self.num_atoms, self.num_edges = other.num_graphs, other.num_atoms, other.num_edges
        return self


def pad_batch(z: Tensor, pos: Tensor, batch: Tensor, edge_index: Tensor, y: Tensor, num_graphs: int,
              budget: ShapeBudget, spacing: float, edge_attr: Tensor | None = None) -> PaddedBatch | None:
    """The batch (atoms ``z``, ``pos``, graph of every atom ``batch``, ``edge_index``, per-graph targets ``y``
    of ``num_graphs`` graphs, optional per-edge ``edge_attr``) padded to ``budget``; ``None`` when it does not
    fit (too many graphs, atoms or edges, or too few padding atoms for the spare edges)."""
    n, e = z.shape[0], edge_index.shape[1]
    pad_atoms, pad_edges = budget.atoms - n, budget.edges - e
    if (num_graphs > budget.graphs or n < 2 or pad_atoms < 2 or pad_edges < 0
            or pad_atoms * budget.max_degree < pad_edges):
        return None
    device, dtype = pos.device, pos.dtype
    line = torch.arange(pad_atoms, device=device, dtype=dtype) * (3.0 * spacing)
    pad_pos = torch.stack([line, torch.zeros_like(line), torch.zeros_like(line)], 1)
    k = torch.arange(pad_edges, device=device)
    pad_index = torch.stack([(k + 1) % pad_atoms, k % pad_atoms]) + n
    graph_mask = torch.zeros(budget.graphs, dtype=dtype, device=device)
    graph_mask[:num_graphs] = 1
    y_pad = y.new_zeros((budget.graphs - num_graphs,) + tuple(y.shape[1:]))
    attr = None
    if edge_attr is not None:
        attr = torch.cat([edge_attr, edge_attr.new_zeros(pad_edges, edge_attr.shape[1])])
    return PaddedBatch(
        z=torch.cat([z, z.new_zeros(pad_atoms)]), pos=torch.cat([pos, pad_pos.to(dtype)]),
        batch=torch.cat([batch, batch.new_full((pad_atoms,), budget.graphs)]),
        node_mask=torch.cat([pos.new_ones(n), pos.new_zeros(pad_atoms)]),
        edge_index=torch.cat([edge_index, pad_index], 1), edge_attr=attr, y=torch.cat([y, y_pad]),
        graph_mask=graph_mask, real_atoms=torch.full((1,), n, dtype=dtype, device=device),
        real_graphs=torch.full((1,), num_graphs, dtype=dtype, device=device),
        num_graphs=num_graphs, num_atoms=n, num_edges=e)
