"""Sheaf attention over the local homology sheaf."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.inits import glorot
from torch_geometric.utils import softmax

from topoequi.nn.conv.local_homology_sheaf_conv import SheafDiffusion, laplacian_blocks


class LocalHomologySheafAttention(SheafDiffusion):
    r"""Attention on the messages of the local homology sheaf (`"Algebraic Topological Networks via
    the Persistent Local Homology Sheaf" <https://arxiv.org/abs/2311.10156>`_): the sheaf Laplacian
    of :class:`LocalHomologySheafConv` with each edge's term weighted by an attention coefficient
    computed from the sheaf message itself,

    .. math::
        \mathbf{X} \leftarrow (1 + \tanh \boldsymbol{\varepsilon}) \odot \mathbf{X}
        - \sigma\left(\Delta^{\alpha}_{\mathcal{F}}
        (\mathbf{I}_n \otimes \mathbf{W}_1) \mathbf{X} \mathbf{W}_2\right),
        \qquad
        (\Delta^{\alpha}_{\mathcal{F}} \mathbf{Y})_v = \sum_{e = \{u, v\}} \alpha_{vu}
        F_{v \le e}^\top (F_{v \le e} \mathbf{Y}_v - F_{u \le e} \mathbf{Y}_u),

    .. math::
        \alpha_{vu} = \operatorname{softmax}_{u \in \mathcal{N}(v)} \operatorname{LeakyReLU}\left(
        \langle \mathbf{a}_1, F_{v \le e}^\top F_{v \le e} \mathbf{Y}_v \rangle
        + \langle \mathbf{a}_2, F_{v \le e}^\top F_{u \le e} \mathbf{Y}_u \rangle\right)

    (:math:`\mathbf{a}_1, \mathbf{a}_2 \in \mathbb{R}^{d \times C}`): the two
    terms of the message, both read in the stalk of :math:`v`, so the score
    does not depend on the sign of the edge stalk's basis (which vertex
    labels fix) and the persistent layer is exactly permutation equivariant.
    The coefficients of a vertex sum to one, which replaces the degree
    normalisation. ``persistent=True`` learns the sheaf from the features as
    in :class:`LocalHomologySheafConv`.

    Args:
        channels (int): :math:`C`.
        stalk_width (int): :math:`d`.
        persistent (bool, optional): learn the sheaf from the features. (default: ``False``)
        negative_slope (float, optional): of the LeakyReLU. (default: ``0.2``)
        dropout (float, optional): dropout on the coefficients. (default: ``0.0``)
        act (str, optional): :math:`\sigma`; ``None`` for the identity. (default: ``"elu"``)
        temperature (float, optional): :math:`\tau` of the persistent sheaf. (default: ``0.5``)
        epsilon (bool, optional): learn :math:`\boldsymbol{\varepsilon}` (else 0), as in
            :class:`LocalHomologySheafConv`. (default: ``False``)
        diffusion_dropout (float, optional): dropout on the features entering the
            Laplacian term, as in :class:`LocalHomologySheafConv`. (default: ``0.0``)
        **kwargs: passed to :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        - **input:** as :class:`LocalHomologySheafConv`
        - **output:** :math:`(|V|, d, C)`
    """

    def __init__(self, channels: int, stalk_width: int, persistent: bool = False,
                 negative_slope: float = 0.2, dropout: float = 0.0, act: str | None = "elu",
                 temperature: float = 0.5, epsilon: bool = False, diffusion_dropout: float = 0.0,
                 **kwargs) -> None:
        self.negative_slope, self.dropout = negative_slope, dropout
        super().__init__(channels, stalk_width, persistent=persistent, normalize=False, act=act,
                         temperature=temperature, epsilon=epsilon, diffusion_dropout=diffusion_dropout, **kwargs)
        self.att = Parameter(torch.empty(2, stalk_width, channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        glorot(self.att)

    def forward(self, x: Tensor, edge_index: Tensor, restriction: Tensor | None = None,
                triangles: Tensor | None = None) -> Tensor:
        edges = self.check_input(x, edge_index)
        res = self.sheaf(x, edges, restriction, triangles)
        y = self.mix(x)
        n = x.size(0)
        edge_index, own, cross, _ = laplacian_blocks(edges, res, n, normalize=False)
        # <a, M y> = sum_ij M_ij (a y^T)_ij: read the scores off d x d products per vertex
        probe_t, probe_s = self.att[0] @ y.transpose(-1, -2), self.att[1] @ y.transpose(-1, -2)
        alpha = self.edge_updater(edge_index, probe_t=probe_t, probe_s=probe_s, own=own, cross=cross)
        diag = own.new_zeros(n, *own.shape[1:]).index_add_(0, edge_index[1], alpha[:, None, None] * own)
        out = diag @ y - self.propagate(edge_index, x=y, block=alpha[:, None, None] * cross, size=(n, n))
        return self.step(x, out)

    def edge_update(self, probe_t_i: Tensor, probe_s_j: Tensor, own: Tensor, cross: Tensor, index: Tensor,
                    ptr: Tensor | None, size_i: int | None) -> Tensor:
        score = (own * probe_t_i).sum((-1, -2)) + (cross * probe_s_j).sum((-1, -2))
        alpha = softmax(F.leaky_relu(score, self.negative_slope), index, ptr, size_i)
        return F.dropout(alpha, p=self.dropout, training=self.training)
