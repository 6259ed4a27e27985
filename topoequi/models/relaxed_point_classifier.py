"""A point-cloud classifier whose layers learn their degree of equivariance."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch_geometric.utils import scatter

from topoequi.nn import (
    EquivariantBatchNorm,
    FourierNonlinearity,
    GroupLikelihood,
    IsotypicBalance,
    SteerableConv,
    kl_divergence,
    likelihood_kl_chain,
)
from topoequi.symmetry import Cyclic, Group, group_from_name

MODES = ("equivariant", "non-equivariant", "learnable")


class RelaxedPointClassifier(nn.Module):
    r"""Graph classifier of planar (or spatial) point clouds with relaxed steerable convolutions, from
    `"A Probabilistic Approach to Learning the Degree of Equivariance in Steerable CNNs"
    <https://arxiv.org/abs/2406.03946>`_ (Veefkind & Cesa, ICML 2024).

    .. math::
        h^{(l+1)} = \sigma\big(\mathrm{BN}(\mathrm{Conv}_{\lambda_l}(h^{(l)}))\big),\qquad
        y_k = \mathrm{MLP}_k\Big(\tfrac{1}{n}\sum_i \mathrm{BN}(\mathrm{Conv}_{\lambda_{L,k}}(h^{(L)}))_i\Big),

    with invariant input features, hidden features ``channels`` copies of the
    regular representation of the finite group G, the Fourier ReLU
    :math:`\sigma` (exact for finite groups) and equivariant batch norms. The
    first ``num_layers - branch_layers`` convolutions are shared; each output
    part :math:`k` has its own last ``branch_layers`` ones, the last to
    ``channels`` G-invariant scalars, and an MLP head, so parts of different
    symmetry get their own likelihoods; the output is :math:`[y_1, y_2, \dots]`.
    Every convolution is a :class:`~topoequi.nn.SteerableConv` relaxed by its own
    likelihood, and all three modes have the same weights:

    - ``"equivariant"``: :math:`\lambda_l` fixed uniform on G (a G-invariant classifier);
    - ``"non-equivariant"``: :math:`\lambda_l` on the trivial group (unconstrained kernels);
    - ``"learnable"``: :math:`\lambda_l` learned, initialized uniform on G; with ``balance`` the
      unconstrained map :math:`W_0` of every layer is parametrized by
      :class:`~topoequi.nn.IsotypicBalance` (its non-equivariant isotypic components keep the norms of
      a random map relative to the equivariant one, so :math:`\lambda` alone sets how far a layer is
      from equivariance). In the fixed modes it would change nothing (a uniform :math:`\lambda` keeps
      the equivariant component, the trivial group has only that one), so they are built without it.

    Args:
        group (Group or str): a finite group acting on the positions, e.g. ``Dihedral(4)`` or ``"D4"``.
        in_channels (int): invariant input features per point.
        out_channels (int or Sequence[int]): outputs per graph, or the sizes of the parts,
            each with its own last convolution and head.
        mode (str, optional): one of ``MODES``. (default: ``"learnable"``)
        channels (int, optional): regular copies per hidden layer. (default: ``4``)
        num_layers (int, optional): convolutions on the way to an output, the last included. (default: ``3``)
        branch_layers (int, optional): of these, the last ones that every part has on its own. (default: ``1``)
        cutoff (float, optional): kernel radius. (default: ``2.5``)
        max_frequency (int, optional): angular band-limit of the kernels. (default: ``3``)
        num_radial (int, optional): radial rings of the kernels. (default: ``3``)
        balance (bool, optional): parametrize the learnable layers' :math:`W_0` by
            :class:`~topoequi.nn.IsotypicBalance`. (default: ``True``)

    Shapes:
        - **input:** a PyG batch with ``x`` :math:`(N, \text{in})`, ``pos`` :math:`(N, d)`,
          ``edge_index`` :math:`(2, E)`, ``batch`` :math:`(N,)`
        - **output:** :math:`(B, \text{out})`
    """

    def __init__(self, group: Group | str, in_channels: int, out_channels: int | Sequence[int], mode: str = "learnable",
                 channels: int = 4, num_layers: int = 3, cutoff: float = 2.5, max_frequency: int = 3,
                 num_radial: int = 3, branch_layers: int = 1, balance: bool = True):
        super().__init__()
        group = group_from_name(group) if isinstance(group, str) else group
        if not isinstance(group, Group) or not group.is_finite:
            raise ValueError(f"RelaxedPointClassifier: group must be a finite topoequi Group, got {group!r}")
        if mode not in MODES:
            raise ValueError(f"RelaxedPointClassifier: mode must be one of {MODES}, got {mode!r}")
        if num_layers < 2:
            raise ValueError(f"RelaxedPointClassifier: num_layers must be >= 2, got {num_layers}")
        if not 1 <= branch_layers < num_layers:
            raise ValueError(f"RelaxedPointClassifier: branch_layers must be in [1, num_layers), got {branch_layers}")
        parts = [out_channels] if isinstance(out_channels, int) else list(out_channels)
        if not parts or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in parts):
            raise ValueError(f"RelaxedPointClassifier: out_channels must be a positive int or a non-empty "
                             f"sequence of them, got {out_channels!r}")
        self.group, self.mode = group, mode
        hidden, invariant = group.regular_rep().repeat(channels), group.trivial_rep(channels)
        self.shared = num_layers - branch_layers
        branch = [hidden] * branch_layers + [invariant]  # a part's representations from the split on
        reps = [group.trivial_rep(in_channels)] + [hidden] * (self.shared - 1) + branch * len(parts)
        ins = reps[:self.shared] + [r for _ in parts for r in branch[:-1]]
        outs = reps[1:self.shared + 1] + [r for _ in parts for r in branch[1:]]
        self.likelihoods = nn.ModuleList(self._likelihood() for _ in ins)
        self.convs = nn.ModuleList(
            SteerableConv(a, b, cutoff=cutoff, max_frequency=max_frequency, num_radial=num_radial,
                          aggr="mean", likelihood=lam)
            for a, b, lam in zip(ins, outs, self.likelihoods))
        if balance and mode == "learnable":
            for conv in self.convs:
                parametrize.register_parametrization(conv, "relaxed_weight", IsotypicBalance(conv))
        self.norms = nn.ModuleList(EquivariantBatchNorm(rep) for rep in outs)
        self.nonlinearities = nn.ModuleList(FourierNonlinearity(hidden, sigma="relu")
                                            for _ in range(self.shared + (branch_layers - 1) * len(parts)))
        self.branch_layers = branch_layers
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(channels, 4 * channels), nn.ReLU(), nn.Linear(4 * channels, k)) for k in parts)

    def __repr__(self) -> str:
        parts = [head[-1].out_features for head in self.heads]
        return (f"{self.__class__.__name__}({self.group}, mode={self.mode!r}, convs={len(self.convs)}, "
                f"branch_layers={self.branch_layers}, out_channels={parts})")

    def _likelihood(self) -> GroupLikelihood:
        if self.mode == "non-equivariant":
            return GroupLikelihood(Cyclic(1), learnable=False)
        return GroupLikelihood(self.group, learnable=self.mode == "learnable")

    def regularizers(self, prior: str = "chain") -> tuple[Tensor, Tensor]:
        r"""Of the learned likelihoods (all zero in the fixed modes): with ``prior="chain"`` the chain
        :math:`\sum_l \mathrm{KL}(\lambda_l \| \lambda_{l-1})` (the first against uniform; every last
        likelihood against the one before the split), with ``prior="uniform"``
        :math:`\sum_l \mathrm{KL}(\lambda_l \| 1)` (every layer pulled to G-equivariance on its own), and
        the alignment :math:`\sum_l (\max f_l - f_l(e))`. (The group lasso on the likelihoods is a
        proximal step after each optimizer step, :meth:`~topoequi.nn.GroupLikelihood.shrink_`.)"""
        if prior not in ("chain", "uniform"):
            raise ValueError(f"RelaxedPointClassifier: prior must be 'chain' or 'uniform', got {prior!r}")
        if self.mode != "learnable":
            zero = self.heads[0][0].weight.new_zeros(())
            return zero, zero
        lams, shared, b = list(self.likelihoods), self.shared, self.branch_layers
        if prior == "uniform":
            kl = sum(kl_divergence(lam, None) for lam in lams)
        else:
            kl = likelihood_kl_chain(lams[:shared])
            for start in range(shared, len(lams), b):  # each part's chain goes on from the split
                kl = kl + likelihood_kl_chain([lams[shared - 1]] + lams[start:start + b]) \
                    - kl_divergence(lams[shared - 1], None)
        return kl, sum(lam.alignment() for lam in lams)

    def forward(self, data) -> Tensor:
        h, pos, edge_index = data.x, data.pos, data.edge_index
        layers = list(zip(self.convs, self.norms))
        acts = list(self.nonlinearities)
        for (conv, norm), act in zip(layers[:self.shared], acts):
            h = act(norm(conv(h, pos, edge_index)))
        outs, b = [], self.branch_layers
        for k, head in enumerate(self.heads):
            z = h
            for i, (conv, norm) in enumerate(layers[self.shared + k * b:self.shared + (k + 1) * b]):
                z = norm(conv(z, pos, edge_index))
                if i < b - 1:
                    z = acts[self.shared + k * (b - 1) + i](z)
            outs.append(head(scatter(z, data.batch, dim=0, dim_size=data.num_graphs, reduce="mean")))
        return torch.cat(outs, -1)
