"""Neural Sheaf Diffusion with a learned sheaf: the topology-free control."""
from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Linear
from torch.nn.utils import skip_init

from topoequi.nn.conv.local_homology_sheaf_conv import SheafDiffusion


class NeuralSheafDiffusionConv(SheafDiffusion):
    r"""Sheaf diffusion with restriction maps learned from the features, from `"Neural Sheaf
    Diffusion: A Topological Perspective on Heterophily and Oversmoothing in GNNs"
    <https://arxiv.org/abs/2202.04579>`_: the update of :class:`LocalHomologySheafConv` with

    .. math::
        F_{v \le e} = \Phi(\mathbf{x}_v \,\|\, \mathbf{x}_u)

    instead of the local homology sheaf. ``maps="orthogonal"`` gives the
    Cayley map :math:`F = (I - S)^{-1}(I + S)` of the skew matrix
    :math:`S = A - A^\top`, :math:`A` strictly upper triangular from a linear
    map of the two endpoint features (O(d)-NSD; the Cayley map reaches
    :math:`SO(d)` without :math:`-1` eigenvalues, and is an order of
    magnitude cheaper to differentiate than :math:`\exp(S)`); ``"diagonal"``
    gives :math:`F = \operatorname{diag}(\tanh(\cdot))` (Diag-NSD). No
    topology enters: every stalk has full width :math:`d`.

    Args:
        channels (int): :math:`C`.
        stalk_width (int): :math:`d`.
        maps (str, optional): ``"orthogonal"`` or ``"diagonal"``. (default: ``"orthogonal"``)
        normalize (bool, optional): use :math:`D^{-1/2} L D^{-1/2}`. (default: ``True``)
        augmented (bool, optional): use :math:`(D + I)^{-1/2} L (D + I)^{-1/2}`. (default: ``False``)
        act (str, optional): :math:`\sigma`. (default: ``"elu"``)
        epsilon (bool, optional): learn the residual weights :math:`\boldsymbol{\varepsilon}`
            of :class:`LocalHomologySheafConv`. (default: ``False``)
        diffusion_dropout (float, optional): as in :class:`LocalHomologySheafConv`. (default: ``0.0``)
        **kwargs: passed to :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        - **input:** features :math:`(|V|, d, C)`, ``edge_index`` :math:`(2, |E|)`, each edge of the complex once
        - **output:** :math:`(|V|, d, C)`
    """

    def __init__(self, channels: int, stalk_width: int, maps: str = "orthogonal", normalize: bool = True,
                 act: str | None = "elu", epsilon: bool = False, diffusion_dropout: float = 0.0,
                 augmented: bool = False, **kwargs) -> None:
        if maps not in ("orthogonal", "diagonal"):
            raise ValueError(f"NeuralSheafDiffusionConv: maps must be 'orthogonal' or 'diagonal', got {maps!r}")
        super().__init__(channels, stalk_width, persistent=False, normalize=normalize, act=act, epsilon=epsilon,
                         diffusion_dropout=diffusion_dropout, augmented=augmented, **kwargs)
        self.maps = maps
        out = stalk_width * (stalk_width - 1) // 2 if maps == "orthogonal" else stalk_width
        self.learner = skip_init(Linear, 2 * stalk_width * channels, max(out, 1), bias=False)  # drawn below
        self.register_buffer("upper", torch.triu_indices(stalk_width, stalk_width, 1), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.learner.reset_parameters()

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.channels}, stalk_width={self.stalk_width}, maps={self.maps!r}, "
                f"augmented={self.augmented}, epsilon={self.eps is not None})")

    def sheaf(self, x: Tensor, edges: Tensor, restriction: Tensor | None,
              triangles: Tensor | None) -> Tensor:
        flat = x.reshape(x.size(0), -1)
        # Phi(x_v || x_u) = W_own x_v + W_other x_u: both halves applied once per vertex, then gathered.
        # side 0 is F_{u<=e} = Phi(x_u || x_v), side 1 is F_{v<=e} = Phi(x_v || x_u)
        w_own, w_other = self.learner.weight.split(flat.size(1), dim=1)
        own, other = flat @ w_own.t(), flat @ w_other.t()
        u, v = edges[:, 0], edges[:, 1]
        params = torch.stack([own[u] + other[v], own[v] + other[u]], 1)
        d = self.stalk_width
        if self.maps == "diagonal":
            return torch.diag_embed(torch.tanh(params))
        a = params.new_zeros(*params.shape[:2], d, d)
        a[..., self.upper[0], self.upper[1]] = params[..., : self.upper.size(1)]
        skew = a - a.transpose(-1, -2)
        eye = torch.eye(d, dtype=skew.dtype, device=skew.device).expand_as(skew)
        return torch.linalg.solve(eye - skew, eye + skew)                 # Cayley map into SO(d)
