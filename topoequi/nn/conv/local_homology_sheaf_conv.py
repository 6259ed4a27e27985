"""Sheaf diffusion over the local homology sheaf."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.resolver import activation_resolver

from topoequi.topology.sheaf_maps import persistent_local_homology_restriction


def laplacian_blocks(edges: Tensor, restriction: Tensor, num_nodes: int,
                     normalize: bool, augmented: bool = False) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""The blocks of the (normalised) sheaf Laplacian, for message passing.

    Returns ``edge_index`` (``u -> v`` for every edge, then ``v -> u``), the
    per-direction blocks :math:`A_{vu} = F_{v \le e}^\top F_{v \le e}` and
    :math:`B_{vu} = F_{v \le e}^\top F_{u \le e}` (``[2E, d, d]``, target
    ``v``), and the diagonal blocks :math:`L_{vv} = \sum_u A_{vu}`
    (``[N, d, d]``), so that :math:`(L Y)_v = L_{vv} Y_v - \sum_u B_{vu} Y_u`.
    With ``normalize`` every block is scaled to :math:`D^{-1/2} L D^{-1/2}`
    (:math:`D` the diagonal of the diagonal blocks; zero rows stay zero), with
    ``augmented`` as well to :math:`(D + I)^{-1/2} L (D + I)^{-1/2}`, which damps
    low-degree vertices as a self-loop does (GCN's renormalisation).
    Products of the small ``d x d`` maps are formed once, so applying
    :math:`L` costs one ``d x d`` by ``d x C`` product per vertex and per
    directed edge.
    """
    edge_index = torch.cat([edges.t(), edges.t().flip(0)], dim=1)
    f_target = torch.cat([restriction[:, 1], restriction[:, 0]])
    f_source = torch.cat([restriction[:, 0], restriction[:, 1]])
    f_t = f_target.transpose(-1, -2)
    own, cross = f_t @ f_target, f_t @ f_source
    target = edge_index[1]
    diag = own.new_zeros(num_nodes, *own.shape[1:]).index_add_(0, target, own)
    if normalize:
        deg = diag.diagonal(dim1=-2, dim2=-1)
        if augmented:
            inv = (deg + 1).rsqrt()
        else:
            inv = torch.where(deg > 0, deg.clamp(min=1e-12).rsqrt(), torch.zeros_like(deg))
        scale_t, scale_s = inv[target], inv[edge_index[0]]
        own = scale_t[..., :, None] * own * scale_t[..., None, :]
        cross = scale_t[..., :, None] * cross * scale_s[..., None, :]
        diag = inv[..., :, None] * diag * inv[..., None, :]
    return edge_index, own, cross, diag


class SheafDiffusion(MessagePassing):
    r"""The sheaf diffusion step the sheaf convolutions share (see :class:`LocalHomologySheafConv`):
    the weights :math:`\mathbf{W}_1, \mathbf{W}_2, \boldsymbol{\varepsilon}`, the sheaf of a call
    (given, or persistent from the features) and the update. Each subclass ends its ``__init__``
    with :meth:`reset_parameters`.
    """

    def __init__(self, channels: int, stalk_width: int, persistent: bool = False, normalize: bool = True,
                 act: str | None = "elu", temperature: float = 0.5, epsilon: bool = False,
                 diffusion_dropout: float = 0.0, augmented: bool = False, **kwargs) -> None:
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        name = self.__class__.__name__
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"{name}: channels must be a positive int, got {channels!r}")
        if not isinstance(stalk_width, int) or stalk_width < 1:
            raise ValueError(f"{name}: stalk_width must be a positive int, got {stalk_width!r}")
        if temperature <= 0:
            raise ValueError(f"{name}: temperature must be positive, got {temperature!r}")
        if not 0 <= diffusion_dropout <= 1:
            raise ValueError(f"{name}: diffusion_dropout must be in [0, 1], got {diffusion_dropout!r}")
        self.channels, self.stalk_width = channels, stalk_width
        if augmented and not normalize:
            raise ValueError(f"{name}: augmented=True needs normalize=True")
        self.persistent, self.normalize, self.temperature = persistent, normalize, temperature
        self.augmented = augmented
        self.diffusion_dropout = diffusion_dropout
        self.act = activation_resolver(act) if act is not None else torch.nn.Identity()
        self.left = Parameter(torch.empty(stalk_width, stalk_width))      # W_1
        self.right = Parameter(torch.empty(channels, channels))           # W_2
        self.scale = Parameter(torch.empty(())) if persistent else None   # scale of the persistent sheaf
        self.eps = Parameter(torch.empty(stalk_width, 1)) if epsilon else None

    def reset_parameters(self) -> None:
        super().reset_parameters()
        with torch.no_grad():
            self.left.copy_(torch.eye(self.stalk_width))
            self.right.copy_(torch.eye(self.channels))
            if self.scale is not None:
                self.scale.fill_(1.0)
            if self.eps is not None:
                self.eps.zero_()

    def sheaf(self, x: Tensor, edges: Tensor, restriction: Tensor | None,
              triangles: Tensor | None) -> Tensor:
        """The restriction maps used by this call: given, or persistent from ``x``."""
        name = self.__class__.__name__
        if self.persistent:
            if triangles is None:
                raise ValueError(f"{name}: persistent=True needs triangles ([T, 3])")
            return persistent_local_homology_restriction(x, edges, triangles, self.stalk_width,
                                                         self.scale, self.temperature)
        if restriction is None:
            raise ValueError(f"{name}: restriction ([E, 2, d, d]) is required unless persistent=True")
        if restriction.shape[1:] != (2, self.stalk_width, self.stalk_width) or \
                restriction.size(0) != edges.size(0):
            raise ValueError(f"{name}: restriction must have shape [{edges.size(0)}, 2, {self.stalk_width}, "
                             f"{self.stalk_width}], got {list(restriction.shape)}")
        return restriction.to(x.dtype)

    def check_input(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The edges ``[E, 2]`` of ``edge_index`` ``[2, E]`` (each edge of the complex once), after checking shapes."""
        name = self.__class__.__name__
        if x.dim() != 3 or x.shape[1:] != (self.stalk_width, self.channels):
            raise ValueError(f"{name}: x must have shape [N, {self.stalk_width}, {self.channels}], "
                             f"got {list(x.shape)}")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"{name}: edge_index must have shape [2, E], got {list(edge_index.shape)}")
        return edge_index.t()

    def forward(self, x: Tensor, edge_index: Tensor, restriction: Tensor | None = None,
                triangles: Tensor | None = None) -> Tensor:
        edges = self.check_input(x, edge_index)
        res = self.sheaf(x, edges, restriction, triangles)
        y = self.mix(x)
        edge_index, _, cross, diag = laplacian_blocks(edges, res, x.size(0), self.normalize, self.augmented)
        out = diag @ y - self.propagate(edge_index, x=y, block=cross, size=(x.size(0), x.size(0)))
        return self.step(x, out)

    def mix(self, x: Tensor) -> Tensor:
        r""":math:`(\mathbf{I}_n \otimes \mathbf{W}_1) \operatorname{dropout}(\mathbf{X}) \mathbf{W}_2`, the input of
        the Laplacian."""
        return self.left @ F.dropout(x, self.diffusion_dropout, self.training) @ self.right

    def step(self, x: Tensor, out: Tensor) -> Tensor:
        r""":math:`(1 + \tanh \boldsymbol{\varepsilon}) \odot \mathbf{X} - \sigma(\text{out})`."""
        if self.eps is None:
            return x - self.act(out)
        return (1 + torch.tanh(self.eps)) * x - self.act(out)

    def message(self, x_j: Tensor, block: Tensor) -> Tensor:
        return block @ x_j

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.channels}, stalk_width={self.stalk_width}, "
                f"persistent={self.persistent}, epsilon={self.eps is not None})")


class LocalHomologySheafConv(SheafDiffusion):
    r"""Sheaf diffusion on the local homology sheaf, from `"Algebraic Topological Networks via the
    Persistent Local Homology Sheaf" <https://arxiv.org/abs/2311.10156>`_, with the update of
    `"Neural Sheaf Diffusion" <https://arxiv.org/abs/2202.04579>`_:

    .. math::
        \mathbf{X} \leftarrow (1 + \tanh \boldsymbol{\varepsilon}) \odot \mathbf{X}
        - \sigma\left(\Delta_{\mathcal{F}}
        (\mathbf{I}_n \otimes \mathbf{W}_1) \mathbf{X} \mathbf{W}_2\right),
        \qquad
        (\Delta_{\mathcal{F}} \mathbf{Y})_v = D_v^{-1/2} \sum_{e = \{u, v\}}
        F_{v \le e}^\top \left(F_{v \le e} D_v^{-1/2} \mathbf{Y}_v
        - F_{u \le e} D_u^{-1/2} \mathbf{Y}_u\right)

    where :math:`\mathbf{X}_v \in \mathbb{R}^{d \times C}` holds :math:`C`
    channels in the width-:math:`d` stalk of :math:`v`, :math:`F` are the
    restriction maps of the local homology sheaf (zero-padded to
    :math:`d \times d`, :mod:`topoequi.topology.sheaf`) and :math:`D` the
    diagonal of the sheaf Laplacian. Stalk coordinates beyond a vertex's
    stalk dimension receive no message and pass through unchanged.
    :math:`\boldsymbol{\varepsilon} \in \mathbb{R}^d` is a learned step per
    stalk coordinate (initialised to 0) with ``epsilon=True``, and 0 otherwise.
    With ``diffusion_dropout`` :math:`p`, dropout is applied to the
    :math:`\mathbf{X}` inside the Laplacian term only, so the residual
    :math:`\mathbf{X}` passes undropped (the dropout of Neural Sheaf Diffusion).

    With ``persistent=True`` the sheaf is recomputed at every call from the
    features themselves: the complex is weighted by :math:`\|x_u - x_v\|`,
    its persistent local homology orders the stalk bases, and every class is
    weighted by :math:`\sigma((\varepsilon - b)/\tau)` (birth :math:`b`,
    learned scale :math:`\varepsilon`), so the sheaf is differentiable in the
    features (:func:`~topoequi.topology.persistent_local_homology_restriction`).

    Args:
        channels (int): :math:`C`, channels per stalk coordinate.
        stalk_width (int): :math:`d`.
        persistent (bool, optional): learn the sheaf from the features. (default: ``False``)
        normalize (bool, optional): use :math:`D^{-1/2} L D^{-1/2}`. (default: ``True``)
        augmented (bool, optional): normalise by :math:`D + I` instead,
            :math:`(D + I)^{-1/2} L (D + I)^{-1/2}`, as Neural Sheaf Diffusion does. (default: ``False``)
        act (str, optional): :math:`\sigma`; ``None`` for the identity. (default: ``"elu"``)
        temperature (float, optional): :math:`\tau` of the persistent sheaf. (default: ``0.5``)
        epsilon (bool, optional): learn the residual weights :math:`\boldsymbol{\varepsilon}`.
            (default: ``False``)
        diffusion_dropout (float, optional): dropout on the features entering the
            Laplacian term. (default: ``0.0``)
        **kwargs: passed to :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        - **input:** features :math:`(|V|, d, C)`, ``edge_index`` :math:`(2, |E|)` (each edge of the complex
          once, sorted),
          ``restriction`` :math:`(|E|, 2, d, d)` (fixed sheaf) or ``triangles``
          :math:`(|T|, 3)` (persistent sheaf)
        - **output:** :math:`(|V|, d, C)`
    """

    def __init__(self, channels: int, stalk_width: int, persistent: bool = False, normalize: bool = True,
                 act: str | None = "elu", temperature: float = 0.5, epsilon: bool = False,
                 diffusion_dropout: float = 0.0, augmented: bool = False, **kwargs) -> None:
        super().__init__(channels, stalk_width, persistent=persistent, normalize=normalize, act=act,
                         temperature=temperature, epsilon=epsilon, diffusion_dropout=diffusion_dropout,
                         augmented=augmented, **kwargs)
        self.reset_parameters()
