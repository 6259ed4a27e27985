"""A point-cloud classifier whose layers learn their degree of equivariance."""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.utils import scatter

from topoequi.nn import (
    EquivariantBatchNorm,
    FourierNonlinearity,
    GroupLikelihood,
    SteerableConv,
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
        y = \mathrm{MLP}\Big(\tfrac{1}{n}\sum_i \mathrm{BN}(\mathrm{Conv}_{\lambda_L}(h^{(L)}))_i\Big),

    with invariant input features, hidden features ``channels`` copies of the
    regular representation of the finite group G, the Fourier ReLU
    :math:`\sigma` (exact for finite groups), equivariant batch norms and a last convolution to
    ``channels`` G-invariant scalars. Every convolution is a
    :class:`~topoequi.nn.SteerableConv` relaxed by its own likelihood
    :math:`\lambda_l`, so all three modes have the same weights:

    - ``"equivariant"``: :math:`\lambda_l` fixed uniform on G (a G-invariant classifier);
    - ``"non-equivariant"``: :math:`\lambda_l` on the trivial group (unconstrained kernels);
    - ``"learnable"``: :math:`\lambda_l` learned, initialized uniform on G.

    Args:
        group (Group): a finite group acting on the positions, e.g. ``Dihedral(4)``.
        in_channels (int): invariant input features per point.
        out_channels (int): outputs per graph.
        mode (str, optional): one of ``MODES``. (default: ``"learnable"``)
        channels (int, optional): regular copies per hidden layer. (default: ``4``)
        num_layers (int, optional): convolutions, the last included. (default: ``3``)
        cutoff (float, optional): kernel radius. (default: ``2.5``)
        max_frequency (int, optional): angular band-limit of the kernels. (default: ``3``)
        num_radial (int, optional): radial rings of the kernels. (default: ``3``)

    Shapes:
        - **input:** a PyG batch with ``x`` :math:`(N, \text{in})`, ``pos`` :math:`(N, d)`,
          ``edge_index`` :math:`(2, E)`, ``batch`` :math:`(N,)`
        - **output:** :math:`(B, \text{out})`
    """

    def __init__(self, group: Group, in_channels: int, out_channels: int, mode: str = "learnable",
                 channels: int = 4, num_layers: int = 3, cutoff: float = 2.5, max_frequency: int = 3,
                 num_radial: int = 3):
        super().__init__()
        if not isinstance(group, Group) or not group.is_finite:
            raise ValueError(f"RelaxedPointClassifier: group must be a finite topoequi Group, got {group!r}")
        if mode not in MODES:
            raise ValueError(f"RelaxedPointClassifier: mode must be one of {MODES}, got {mode!r}")
        if num_layers < 2:
            raise ValueError(f"RelaxedPointClassifier: num_layers must be >= 2, got {num_layers}")
        self.group, self.mode = group, mode
        hidden = group.regular_rep() * channels
        reps = [group.trivial_rep(in_channels)] + [hidden] * (num_layers - 1) + [group.trivial_rep(channels)]
        self.likelihoods = nn.ModuleList(self._likelihood() for _ in range(num_layers))
        self.convs = nn.ModuleList(
            SteerableConv(a, b, cutoff=cutoff, max_frequency=max_frequency, num_radial=num_radial,
                          aggr="mean", likelihood=lam)
            for a, b, lam in zip(reps[:-1], reps[1:], self.likelihoods))
        self.norms = nn.ModuleList(EquivariantBatchNorm(rep) for rep in reps[1:])
        self.nonlinearities = nn.ModuleList(FourierNonlinearity(hidden, sigma="relu") for _ in range(num_layers - 1))
        self.head = nn.Sequential(nn.Linear(channels, 4 * channels), nn.ReLU(), nn.Linear(4 * channels, out_channels))

    def _likelihood(self) -> GroupLikelihood:
        if self.mode == "non-equivariant":
            return GroupLikelihood(Cyclic(1), learnable=False)
        return GroupLikelihood(self.group, learnable=self.mode == "learnable")

    def regularizers(self) -> tuple[Tensor, Tensor, Tensor]:
        r"""Of the learned likelihoods (all zero in the fixed modes): the chain
        :math:`\sum_l \mathrm{KL}(\lambda_l \| \lambda_{l-1})` (the first against uniform), the
        alignment :math:`\sum_l (\max f_l - f_l(e))` and the equivariance defect
        :math:`\sum_l \|W_{0,l} - \bar W_{0,l}\|^2 / \|W_{0,l}\|^2` of the unconstrained maps, which
        keeps :math:`W_0` from amplifying small deviations of :math:`\lambda_l` from uniform."""
        if self.mode != "learnable":
            zero = self.head[0].weight.new_zeros(())
            return zero, zero, zero
        return (likelihood_kl_chain(list(self.likelihoods)), sum(lam.alignment() for lam in self.likelihoods),
                sum(conv.equivariance_defect() for conv in self.convs))

    def forward(self, data) -> Tensor:
        h, pos, edge_index = data.x, data.pos, data.edge_index
        for conv, norm, act in zip(self.convs[:-1], self.norms, self.nonlinearities):
            h = act(norm(conv(h, pos, edge_index)))
        h = self.norms[-1](self.convs[-1](h, pos, edge_index))
        return self.head(scatter(h, data.batch, dim=0, dim_size=data.num_graphs, reduce="mean"))
