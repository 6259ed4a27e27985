"""Steerable point convolution with the classical analytic kernel basis."""
from __future__ import annotations

from torch import Tensor

from topoequi.nn.conv.steerable_message_passing import SteerableMessagePassing
from topoequi.nn.group_likelihood import GroupLikelihood
from topoequi.nn.initialization import drawn_again_by_reset
from topoequi.nn.radial import GaussianRadialBasis
from topoequi.symmetry import Rep
from topoequi.symmetry.harmonics import harmonics, harmonics_rep, radial_harmonics


class SteerableConv(SteerableMessagePassing):
    r"""Steerable point convolution with the analytic kernel basis of the
    `"General E(2)-Equivariant Steerable CNNs" <https://arxiv.org/abs/1911.08251>`_ paper
    (Weiler & Cesa, NeurIPS 2019), the standard baseline of implicit kernels

    .. math::
        f'_i = \sum_{j \in \mathcal{N}(i)} \varphi(\|x\|) \sum_{r, l, k}
        w_{rlk}\, \phi_r(\|x\|)\, C_k\big(Y^l(\hat x)\big) f_j,
        \qquad x = x_j - x_i,

    radial rings :math:`\phi_r` times harmonics :math:`Y^l` (restricted to
    :math:`G`) times Clebsch-Gordan maps :math:`C_k`, with learned weights: the
    complete basis of band-limited kernels solving the steerability constraint.
    It shares everything with :class:`ImplicitSteerableConv` except the kernel
    features, here the fixed products :math:`\phi_r(\|x\|) Y^l(\hat x)`.

    Args:
        in_rep (Rep): input feature representation.
        out_rep (Rep): output feature representation.
        cutoff (float, optional): kernel radius. (default: ``5.0``)
        max_frequency (int, optional): harmonics order :math:`L`. (default: ``2``)
        num_radial (int, optional): number of Gaussian rings. (default: ``8``)
        learnable_radial (bool, optional): learn ring centers and widths. (default: ``False``)
        aggr (str, optional): ``"add"`` or ``"mean"``. (default: ``"add"``)
        bias (bool, optional): bias on the invariant outputs. (default: ``True``)
        fused (bool, optional): see :class:`SteerableMessagePassing`. (default: ``True``)
        likelihood (GroupLikelihood, optional): learnable degree of equivariance, see
            :class:`SteerableMessagePassing`. (default: ``None``)

    Shapes:
        - **input:** node features :math:`(N, \dim \rho_{in})`, positions :math:`(N, d)`,
          edge indices :math:`(2, E)`
        - **output:** node features :math:`(N, \dim \rho_{out})`
    """

    def __init__(self, in_rep: Rep, out_rep: Rep, cutoff: float = 5.0, max_frequency: int = 2,
                 num_radial: int = 8, learnable_radial: bool = False, aggr: str = "add", bias: bool = True,
                 fused: bool = True, likelihood: GroupLikelihood | None = None):
        group = in_rep.group
        harmonic_rep = harmonics_rep(group, max_frequency)
        kernel_rep = Rep(group, [(psi, num_radial * m) for psi, m in harmonic_rep.irreps])
        with drawn_again_by_reset():
            super().__init__(in_rep, out_rep, kernel_rep, cutoff, None, aggr, bias, fused, likelihood)
        self.max_frequency, self.harmonic_rep = max_frequency, harmonic_rep
        self.radial = GaussianRadialBasis(num_radial, cutoff, learnable=learnable_radial)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.radial.reset_parameters()

    def kernel_features(self, rel: Tensor, length: Tensor, edge_attr: Tensor | None) -> Tensor:
        return radial_harmonics(self.radial(length), harmonics(rel, self.group, self.max_frequency),
                                self.harmonic_rep)
