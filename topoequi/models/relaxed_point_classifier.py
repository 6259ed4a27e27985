"""A point-cloud classifier whose layers learn their degree of equivariance."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from topoequi.nn import (
    EquivariantBatchNorm,
    FourierNonlinearity,
    GroupLikelihood,
    SteerableConv,
    kl_divergence,
    likelihood_kl_chain,
)
from topoequi.symmetry import Cyclic, Group

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
    :math:`\sigma` (exact for finite groups), equivariant batch norms and, per
    output part :math:`k`, a last convolution to ``channels`` G-invariant
    scalars and an MLP head (parts of different symmetry get their own last
    likelihood :math:`\lambda_{L,k}`); the output is :math:`[y_1, y_2, \dots]`.
    Every convolution is a :class:`~topoequi.nn.SteerableConv` relaxed by its own
    likelihood, so all three modes have the same weights:

    - ``"equivariant"``: :math:`\lambda_l` fixed uniform on G (a G-invariant classifier);
    - ``"non-equivariant"``: :math:`\lambda_l` on the trivial group (unconstrained kernels);
    - ``"learnable"``: :math:`\lambda_l` learned, initialized uniform on G.

    Args:
        group (Group): a finite group acting on the positions, e.g. ``Dihedral(4)``.
        in_channels (int): invariant input features per point.
        out_channels (int or Sequence[int]): outputs per graph, or the sizes of the parts,
            each with its own last convolution and head.
        mode (str, optional): one of ``MODES``. (default: ``"learnable"``)
        channels (int, optional): regular copies per hidden layer. (default: ``4``)
        num_layers (int, optional): convolutions on the way to an output, the last included. (default: ``3``)
        cutoff (float, optional): kernel radius. (default: ``2.5``)
        max_frequency (int, optional): angular band-limit of the kernels. (default: ``3``)
        num_radial (int, optional): radial rings of the kernels. (default: ``3``)

    Shapes:
        - **input:** a PyG batch with ``x`` :math:`(N, \text{in})`, ``pos`` :math:`(N, d)`,
          ``edge_index`` :math:`(2, E)`, ``batch`` :math:`(N,)`
        - **output:** :math:`(B, \text{out})`
    """

    def __init__(self, group: Group, in_channels: int, out_channels: int | Sequence[int], mode: str = "learnable",
                 channels: int = 4, num_layers: int = 3, cutoff: float = 2.5, max_frequency: int = 3,
                 num_radial: int = 3):
        super().__init__()
        if not isinstance(group, Group) or not group.is_finite:
            raise ValueError(f"RelaxedPointClassifier: group must be a finite topoequi Group, got {group!r}")
        if mode not in MODES:
            raise ValueError(f"RelaxedPointClassifier: mode must be one of {MODES}, got {mode!r}")
        if num_layers < 2:
            raise ValueError(f"RelaxedPointClassifier: num_layers must be >= 2, got {num_layers}")
        parts = [out_channels] if isinstance(out_channels, int) else list(out_channels)
        if not parts or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in parts):
            raise ValueError(f"RelaxedPointClassifier: out_channels must be a positive int or a non-empty "
                             f"sequence of them, got {out_channels!r}")
        self.group, self.mode = group, mode
        hidden, invariant = group.regular_rep() * channels, group.trivial_rep(channels)
        reps = [group.trivial_rep(in_channels)] + [hidden] * (num_layers - 1)
        self.likelihoods = nn.ModuleList(self._likelihood() for _ in range(num_layers - 1 + len(parts)))
        ins, outs = reps + [hidden] * (len(parts) - 1), reps[1:] + [invariant] * len(parts)
        self.convs = nn.ModuleList(
            SteerableConv(a, b, cutoff=cutoff, max_frequency=max_frequency, num_radial=num_radial,
                          aggr="mean", likelihood=lam)
            for a, b, lam in zip(ins, outs, self.likelihoods))
        self.norms = nn.ModuleList(EquivariantBatchNorm(rep) for rep in outs)
        self.nonlinearities = nn.ModuleList(FourierNonlinearity(hidden, sigma="relu") for _ in range(num_layers - 1))
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(channels, 4 * channels), nn.ReLU(), nn.Linear(4 * channels, k)) for k in parts)

    def _likelihood(self) -> GroupLikelihood:
        if self.mode == "non-equivariant":
            return GroupLikelihood(Cyclic(1), learnable=False)
        return GroupLikelihood(self.group, learnable=self.mode == "learnable")

    def regularizers(self, prior: str = "chain") -> tuple[Tensor, Tensor, Tensor]:
        r"""Of the learned likelihoods (all zero in the fixed modes): with ``prior="chain"`` the chain
        :math:`\sum_l \mathrm{KL}(\lambda_l \| \lambda_{l-1})` (the first against uniform; every last
        likelihood against the one before the split), with ``prior="uniform"``
        :math:`\sum_l \mathrm{KL}(\lambda_l \| 1)` (every layer pulled to G-equivariance on its own), the
        alignment :math:`\sum_l (\max f_l - f_l(e))` and the equivariance defect
        :math:`\sum_l \|W_{0,l} - \bar W_{0,l}\|^2 / \|W_{0,l}\|^2` of the unconstrained maps, which
        keeps :math:`W_0` from amplifying small deviations of :math:`\lambda_l` from uniform."""
        if prior not in ("chain", "uniform"):
            raise ValueError(f"RelaxedPointClassifier: prior must be 'chain' or 'uniform', got {prior!r}")
        if self.mode != "learnable":
            zero = self.heads[0][0].weight.new_zeros(())
            return zero, zero, zero
        shared, last = len(self.nonlinearities), list(self.likelihoods)
        if prior == "uniform":
            kl = sum(kl_divergence(lam, None) for lam in last)
        else:
            kl = likelihood_kl_chain(last[:shared + 1])
            for lam in last[shared + 1:]:
                kl = kl + kl_divergence(lam, last[shared - 1])
        return (kl, sum(lam.alignment() for lam in self.likelihoods),
                sum(conv.equivariance_defect() for conv in self.convs))

    def forward(self, data) -> Tensor:
        h, pos, edge_index = data.x, data.pos, data.edge_index
        shared = len(self.nonlinearities)
        for conv, norm, act in zip(self.convs, self.norms, self.nonlinearities):
            h = act(norm(conv(h, pos, edge_index)))
        outs = []
        for conv, norm, head in zip(self.convs[shared:], self.norms[shared:], self.heads):
            z = norm(conv(h, pos, edge_index))
            outs.append(head(scatter(z, data.batch, dim=0, dim_size=data.num_graphs, reduce="mean")))
        return torch.cat(outs, -1)
