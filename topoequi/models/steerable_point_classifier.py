"""Point-cloud classification with implicit steerable kernels on a farthest-point hierarchy."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from topoequi.graph import knn
from topoequi.graph.fps import check_point_cloud, fps
from topoequi.models.steerable_molecule_net import hidden_rep_for
from topoequi.nn import (
    EquivariantBatchNorm,
    EquivariantLinear,
    GatedNonlinearity,
    ImplicitSteerableConv,
)
from topoequi.symmetry import group_from_name

GROUPS = {"O(3)": "O(3)", "SO(3)": "SO(3)", "SO(2)": "SO(2)@R3", "trivial": "C1@R3"}
"""Symmetry options: rotations and reflections, rotations, rotations about the z axis, none."""


def neighbourhoods(pos: Tensor, batch: Tensor, ratio: float, k: int) -> tuple[Tensor, Tensor]:
    """The points a stage keeps (farthest-point samples, or all for ``ratio = 1``) and ``[2, E]`` edges
    from the ``k`` nearest other points of the same example to each kept point (indices into ``pos``)."""
    kept = torch.arange(pos.shape[0], device=pos.device) if ratio >= 1 else fps(pos, batch, ratio=ratio)
    pairs = knn(pos, pos[kept], k + 1, batch, batch[kept])  # the point itself is its own nearest
    src, dst = pairs[1], kept[pairs[0]]
    other = src != dst
    return kept, torch.stack([src[other], dst[other]])


class SteerablePointClassifier(nn.Module):
    r"""Shape classifier of point clouds with implicit steerable kernels, after the ModelNet40 model of
    `"Implicit Convolutional Kernels for Steerable CNNs" <https://arxiv.org/abs/2212.06096>`_
    (Zhdanov, Hoffmann & Cesa, NeurIPS 2023).

    Stage :math:`s` keeps the farthest-point samples :math:`P_s \subset P_{s-1}` (a fraction
    ``ratios[s]``) and convolves onto them from their ``k`` nearest points of :math:`P_{s-1}`:

    .. math::
        f^{(s)}_i = \sigma\Big(\mathrm{BN}\big(\textstyle\sum_{j \in \mathrm{kNN}(i)} K_s(p_j - p_i)\,
        f^{(s-1)}_j + W_s f^{(s-1)}_i\big)\Big), \quad i \in P_s,
        \qquad y = \mathrm{MLP}\big([\mathrm{mean}_i\, f^{\mathrm{inv}}_i, \max_i f^{\mathrm{inv}}_i]\big),

    with :class:`~topoequi.nn.ImplicitSteerableConv` kernels :math:`K_s` (a :math:`G`-equivariant MLP
    of the relative position), gated nonlinearities :math:`\sigma`, and the mean and maximum of the
    invariant channels of the last stage as the :math:`G`-invariant shape code. Farthest-point samples
    and nearest neighbours depend on distances only, so the logits are invariant under :math:`G` and
    translations.

    Args:
        num_classes (int): number of shape classes.
        group (str, optional): ``"O(3)"``, ``"SO(3)"``, ``"SO(2)"`` (about the z axis) or ``"trivial"``.
            (default: ``"SO(3)"``)
        hidden_irreps (str, optional): hidden fields as O(3) irreps, restricted to ``group``.
            (default: ``"16x0e+8x1o+4x2e"``)
        ratios (Sequence[float], optional): fraction of the points each stage keeps. (default: ``(1, 0.25, 0.25)``)
        cutoffs (Sequence[float], optional): kernel radius of each stage (shapes in the unit ball).
            (default: ``(0.5, 1.0, 2.0)``)
        k (int, optional): neighbours per kept point. (default: ``16``)
        head_channels (int, optional): hidden width of the MLP head. (default: ``64``)
        dropout (float, optional): dropout in the head. (default: ``0.3``)
        norm_momentum (float, optional): momentum of the running statistics of the batch norms; short
            trainings need a large one, or evaluation sees stale statistics. (default: ``0.1``)
        **conv_kwargs: passed to the convolutions (``max_frequency``, ``num_radial``, ``channels``, ``mlp``).

    Shapes:
        - **input:** a PyG ``Batch`` with ``pos`` :math:`(N, 3)` and ``batch`` :math:`(N,)`
        - **output:** logits :math:`(B, \text{num\_classes})`
    """

    def __init__(self, num_classes: int, group: str = "SO(3)", hidden_irreps: str = "16x0e+8x1o+4x2e",
                 ratios: Sequence[float] = (1.0, 0.25, 0.25), cutoffs: Sequence[float] = (0.5, 1.0, 2.0),
                 k: int = 16, head_channels: int = 64, dropout: float = 0.3, norm_momentum: float = 0.1,
                 **conv_kwargs):
        super().__init__()
        name = "SteerablePointClassifier"
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"{name}: num_classes must be an int >= 2, got {num_classes!r}")
        if group not in GROUPS:
            raise ValueError(f"{name}: group must be one of {tuple(GROUPS)}, got {group!r}")
        if len(ratios) != len(cutoffs) or not ratios or not all(0 < r <= 1 for r in ratios):
            raise ValueError(f"{name}: ratios (each in (0, 1]) and cutoffs need one entry per stage, "
                             f"got {tuple(ratios)} and {tuple(cutoffs)}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"{name}: k must be a positive int, got {k!r}")
        self.num_classes, self.group_name, self.k = num_classes, group, k
        self.ratios, self.cutoffs, self.hidden_irreps = tuple(ratios), tuple(cutoffs), hidden_irreps
        self.group = group_from_name(GROUPS[group])
        hidden = hidden_rep_for(self.group, hidden_irreps)
        self.convs, self.self_interactions, self.norms, self.gates = (nn.ModuleList() for _ in range(4))
        rep = self.group.trivial_rep(1)
        for cutoff in self.cutoffs:
            gate = GatedNonlinearity(hidden)
            self.convs.append(ImplicitSteerableConv(rep, gate.in_rep, cutoff=cutoff, aggr="mean", **conv_kwargs))
            self.self_interactions.append(EquivariantLinear(rep, gate.in_rep, bias=False))
            self.norms.append(EquivariantBatchNorm(gate.in_rep, momentum=norm_momentum))
            self.gates.append(gate)
            rep = hidden
        self.register_buffer("invariant_index", torch.arange(hidden.dim)[
            hidden.invariant_basis().abs().sum(1) > 0], persistent=False)
        width = 2 * hidden.num_invariants
        self.head = nn.Sequential(nn.Linear(width, head_channels),
                                  nn.BatchNorm1d(head_channels, momentum=norm_momentum), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(head_channels, num_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in [*self.convs, *self.self_interactions, *self.norms, *self.head]:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, data) -> Tensor:
        pos = data.pos
        batch = (data.batch if getattr(data, "batch", None) is not None
                 else pos.new_zeros(pos.shape[0], dtype=torch.long))
        check_point_cloud("SteerablePointClassifier", pos, batch, min_points=2)
        f = pos.new_ones(pos.shape[0], 1)
        for ratio, conv, self_int, norm, gate in zip(self.ratios, self.convs, self.self_interactions,
                                                     self.norms, self.gates):
            kept, edge_index = neighbourhoods(pos, batch, ratio, self.k)
            f = gate(norm((conv(f, pos, edge_index) + self_int(f))[kept]))
            pos, batch = pos[kept], batch[kept]
        invariants = f[:, self.invariant_index]
        num_graphs = int(batch.max()) + 1
        pooled = torch.cat([scatter(invariants, batch, 0, dim_size=num_graphs, reduce="mean"),
                            scatter(invariants, batch, 0, dim_size=num_graphs, reduce="max")], 1)
        return self.head(pooled)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.num_classes}, group={self.group_name}, "
                f"hidden_irreps={self.hidden_irreps}, ratios={self.ratios}, cutoffs={self.cutoffs}, k={self.k})")
