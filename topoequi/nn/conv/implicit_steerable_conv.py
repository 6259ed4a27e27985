"""Steerable point convolution with an implicit kernel: a G-equivariant MLP."""
from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import torch
from torch import Tensor, nn

from topoequi.nn.conv.steerable_conv import radial_harmonics
from topoequi.nn.conv.steerable_message_passing import SteerableMessagePassing
from topoequi.nn.group_likelihood import GroupLikelihood
from topoequi.nn.initialization import drawn_again_by_reset
from topoequi.nn.mlp import EquivariantMLP
from topoequi.nn.radial import GaussianRadialBasis
from topoequi.symmetry import Rep
from topoequi.symmetry.harmonics import harmonics, harmonics_rep


def default_hidden_rep(input_rep: Rep, channels: int) -> Rep:
    """``channels`` invariant copies and ``channels // 2`` copies of every other irrep in ``input_rep``
    (a gated MLP cannot create irreps its input lacks)."""
    trivial = input_rep.group.trivial_irrep
    seen = list(dict.fromkeys(psi for psi, _ in input_rep.irreps))
    if trivial not in seen:
        seen.insert(0, trivial)
    return Rep(input_rep.group, [(psi, channels if psi == trivial else max(1, channels // 2)) for psi in seen])


class ImplicitSteerableConv(SteerableMessagePassing):
    r"""Steerable point convolution with an implicit kernel, from the
    `"Implicit Convolutional Kernels for Steerable CNNs" <https://arxiv.org/abs/2212.06096>`_ paper
    (Zhdanov, Hoffmann & Cesa, NeurIPS 2023)

    .. math::
        f'_i = \sum_{j \in \mathcal{N}(i)} K(x_j - x_i, z_{ij})\, f_j,
        \qquad K(x, z) = \varphi(\|x\|)\; L\big(\mathrm{MLP}_G(Y(x), \phi(\|x\|), z)\big),

    where :math:`\mathrm{MLP}_G` is a :math:`G`-equivariant MLP fed with the
    harmonics :math:`Y` of the direction (restricted to :math:`G`), Gaussian
    shells :math:`\phi` of the length and the steerable edge attributes
    :math:`z`; its last linear layer :math:`L` maps into
    :math:`\mathrm{Hom}(\rho_{in}, \rho_{out})`, and :math:`\varphi` is a cosine
    cutoff. Any :math:`G` of the symmetry core works (SO(3), O(3) and their
    subgroups on R^3; SO(2), O(2), C_N, D_N on R^2): the constraint
    :math:`K(gx, g.z) = \rho_{out}(g) K(x, z) \rho_{in}(g)^{-1}` holds by
    construction. The last layer is applied after aggregation (it is linear),
    so no kernel matrix is ever built per edge.

    With ``mlp="invariant"`` and invariant edge attributes the MLP is an
    ordinary one on the invariants, and its outputs weigh the harmonics,

    .. math::
        K(x, z) = \varphi(\|x\|)\; L\Big(\big[h_{l,r}(\|x\|, z)\, Y^l(\hat x)\big]_{l,r}\Big),
        \qquad h_{l,r} = \phi_r(\|x\|) + \mathrm{MLP}(\phi(\|x\|), z)_{l,r},

    one profile per Gaussian shell and harmonic copy, starting at the analytic basis of
    :class:`SteerableConv` (the MLP's last layer starts at zero). For SO(3), O(3), SO(2) and
    O(2) this form loses nothing (see :doc:`/derivations`); it is cheaper: no gates or irreps
    on the edges.

    Args:
        in_rep (Rep): input feature representation.
        out_rep (Rep): output feature representation.
        edge_rep (Rep, optional): representation of ``edge_attr``. (default: ``None``)
        cutoff (float, optional): kernel radius. (default: ``5.0``)
        max_frequency (int, optional): order of the harmonics fed to the MLP; the
            kernel is band-limited to it. (default: ``2``)
        num_radial (int, optional): learnable Gaussian shells. (default: ``8``)
        channels (int, optional): invariant channels of the MLP's hidden layers
            (half as many copies of each other irrep). (default: ``8``)
        hidden_rep (Rep, optional): hidden representation of the MLP, overriding
            ``channels``. (default: ``None``)
        num_layers (int, optional): linear layers of the kernel MLP, the last
            one included. (default: ``3``)
        mlp (str, optional): ``"equivariant"`` (a :math:`G`-equivariant MLP, any
            edge attributes) or ``"invariant"`` (the analytic basis with profiles
            corrected by an MLP on the invariants, of hidden width ``channels``;
            invariant edge attributes only). (default: ``"equivariant"``)
        nonlinearity (str or callable, optional): of the MLP. (default: ``"gate"``)
        batch_norm (bool, optional): equivariant batch norm in the MLP, as in the
            paper; off by default: its inputs are bounded and it costs about as much
            as the rest of the MLP on the edges. (default: ``False``)
        aggr (str, optional): ``"add"`` or ``"mean"``. (default: ``"add"``)
        bias (bool, optional): bias on the invariant outputs. (default: ``True``)
        fused (bool, optional): see :class:`SteerableMessagePassing`. (default: ``True``)
        likelihood (GroupLikelihood, optional): learnable degree of equivariance, see
            :class:`SteerableMessagePassing`. (default: ``None``)

    Shapes:
        - **input:** node features :math:`(N, \dim \rho_{in})`, positions :math:`(N, d)`,
          edge indices :math:`(2, E)`, edge features :math:`(E, \dim \rho_{edge})` *(optional)*
        - **output:** node features :math:`(N, \dim \rho_{out})`
    """

    def __init__(self, in_rep: Rep, out_rep: Rep, edge_rep: Rep | None = None, cutoff: float = 5.0,
                 max_frequency: int = 2, num_radial: int = 8, channels: int = 8, hidden_rep: Rep | None = None,
                 num_layers: int = 3, nonlinearity: str | Callable[[Rep], nn.Module] = "gate",
                 batch_norm: bool = False, mlp: str = "equivariant", aggr: str = "add", bias: bool = True,
                 fused: bool = True, likelihood: GroupLikelihood | None = None):
        group = in_rep.group
        if num_layers < 2:
            raise ValueError(f"ImplicitSteerableConv: num_layers must be >= 2, got {num_layers}")
        if mlp not in ("equivariant", "invariant"):
            raise ValueError(f"ImplicitSteerableConv: mlp must be 'equivariant' or 'invariant', got {mlp!r}")
        if mlp == "invariant" and edge_rep is not None and edge_rep.num_invariants != edge_rep.dim:
            raise ValueError(f"ImplicitSteerableConv: mlp='invariant' needs invariant edge attributes, "
                             f"got edge_rep={edge_rep}")
        if mlp == "invariant" and (hidden_rep is not None or batch_norm):
            raise ValueError("ImplicitSteerableConv: hidden_rep and batch_norm are options of mlp='equivariant'")
        with drawn_again_by_reset():
            harmonic_rep = harmonics_rep(group, max_frequency)
            if mlp == "equivariant":
                mlp_in = harmonic_rep + group.trivial_rep(num_radial)
                if edge_rep is not None:
                    mlp_in = mlp_in + Rep(group, edge_rep.irreps)
                hidden = hidden_rep if hidden_rep is not None else default_hidden_rep(mlp_in, channels)
                kernel_mlp = EquivariantMLP(mlp_in, [hidden] * (num_layers - 1), None, nonlinearity, batch_norm)
                # the kernel features: the MLP's last hidden layer and a constant (the bias of its last layer)
                kernel_rep = kernel_mlp.out_rep + group.trivial_rep(1)
            else:
                copies = sum(m for _, m in harmonic_rep.irreps)
                widths = [num_radial + (edge_rep.dim if edge_rep is not None else 0)] + [channels] * (num_layers - 1)
                layers = [layer for a, b in pairwise(widths) for layer in (nn.Linear(a, b), nn.SiLU())]
                kernel_mlp = nn.Sequential(*layers, nn.Linear(channels, num_radial * copies))
                kernel_rep = Rep(group, [(psi, num_radial * m) for psi, m in harmonic_rep.irreps])
            super().__init__(in_rep, out_rep, kernel_rep, cutoff, edge_rep, aggr, bias, fused, likelihood)
        self.max_frequency, self.harmonic_rep, self.mlp = max_frequency, harmonic_rep, mlp
        self.radial = GaussianRadialBasis(num_radial, cutoff)
        self.kernel_mlp = kernel_mlp
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The kernel MLP, then the bilinear map (the order in which ``__init__`` builds them)."""
        if self.mlp == "invariant":
            for layer in self.kernel_mlp[::2]:
                layer.reset_parameters()
        else:
            self.kernel_mlp.reset_parameters()
        super().reset_parameters()
        self.radial.reset_parameters()
        if self.mlp == "invariant":  # start at the analytic basis
            nn.init.zeros_(self.kernel_mlp[-1].weight)
            nn.init.zeros_(self.kernel_mlp[-1].bias)

    def kernel_features(self, rel: Tensor, length: Tensor, edge_attr: Tensor | None) -> Tensor:
        y = harmonics(rel, self.group, self.max_frequency)
        invariants = [self.radial(length)] + ([edge_attr] if edge_attr is not None else [])
        if self.mlp == "invariant":
            rings = invariants[0]
            correction = self.kernel_mlp(torch.cat(invariants, -1))
            correction = correction.view(rings.shape[0], rings.shape[1], correction.shape[1] // rings.shape[1])
            return radial_harmonics(rings[:, :, None] + correction, y, self.harmonic_rep)
        hidden = self.kernel_mlp(torch.cat([y] + invariants, -1))
        return torch.cat([hidden, hidden.new_ones(hidden.shape[0], 1)], -1)
