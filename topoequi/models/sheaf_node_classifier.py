"""Node classification by diffusion on the local homology sheaf (or a learned sheaf)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, ModuleList

from topoequi.nn.conv import (
    LocalHomologySheafAttention,
    LocalHomologySheafConv,
    NeuralSheafDiffusionConv,
)
from topoequi.topology.sheaf_maps import with_constant_sheaf


@dataclass(frozen=True)
class SheafVariant:
    """What a named variant of :class:`SheafNodeClassifier` is made of.

    Attributes:
        layer (str): ``"conv"`` (sheaf diffusion), ``"attention"`` (with attention coefficients) or ``"nsd"``
            (Neural Sheaf Diffusion's learned O(d) sheaf).
        sheaf (str): ``"local-homology"`` (precomputed), ``"persistent"`` (learned through persistence) or
            ``"learned"``.
        constant (bool): the local homology sheaf plus constant and signed line sheaves.
    """

    layer: str
    sheaf: str
    constant: bool = False

    @classmethod
    def parse(cls, name: str | SheafVariant) -> SheafVariant:
        if isinstance(name, SheafVariant):
            return name
        if name not in VARIANTS:
            raise ValueError(f"SheafNodeClassifier: variant must be one of {tuple(VARIANTS)}, got {name!r}")
        return VARIANTS[name]

    @property
    def name(self) -> str:
        return next(k for k, v in VARIANTS.items() if v == self)


VARIANTS = {
    "conv": SheafVariant("conv", "local-homology"),
    "attention": SheafVariant("attention", "local-homology"),
    "conv-constant": SheafVariant("conv", "local-homology", constant=True),
    "attention-constant": SheafVariant("attention", "local-homology", constant=True),
    "persistent": SheafVariant("conv", "persistent"),
    "persistent-attention": SheafVariant("attention", "persistent"),
    "nsd": SheafVariant("nsd", "learned"),
}
"""The named variants (the names of ``topoequi train sheaf --variant``)."""


class SheafNodeClassifier(torch.nn.Module):
    r"""Encoder, sheaf diffusion layers, decoder (the architecture of Neural Sheaf Diffusion).

    .. math::
        \mathbf{X}^{(0)} = \operatorname{reshape}_{d \times C}\big(\operatorname{ELU}(\mathbf{W}_{in} \mathbf{x})\big),
        \quad \mathbf{X}^{(t+1)} = \operatorname{layer}_t(\mathbf{X}^{(t)}),
        \quad \hat{\mathbf{y}} = \mathbf{W}_{out} \operatorname{vec}(\mathbf{X}^{(T)})

    Node features enter every stalk through a learned linear map into
    :math:`\mathbb{R}^{d \times C}` (the fixed width ``d`` of the flat block
    layout); coordinates beyond a vertex's stalk dimension are carried by the
    residual only.

    Args:
        in_channels (int): input features.
        num_classes (int): classes.
        hidden_channels (int, optional): :math:`C`. (default: ``16``)
        stalk_width (int, optional): :math:`d`. (default: ``4``)
        num_layers (int, optional): diffusion layers. (default: ``2``)
        variant (str, optional): ``conv`` / ``attention`` (precomputed local
            homology sheaf), ``conv-constant`` / ``attention-constant`` (its first
            ``d - m - h`` coordinates plus ``m`` constant and ``h`` signed
            coordinates, :func:`~topoequi.topology.with_constant_sheaf`: leaves,
            whose local homology is zero, diffuse too), ``persistent`` / ``persistent-attention`` (sheaf
            learned through persistence), ``nsd`` (learned O(d) sheaf, no
            topology). (default: ``"conv"``)
        dropout (float, optional): dropout inside the network. (default: ``0.5``)
        input_dropout (float, optional): dropout on the input features. (default: ``0.0``)
        constant_width (int, optional): ``m``, stalk coordinates of the constant
            sheaf in the ``-constant`` variants. (default: ``1``)
        signed_width (int, optional): ``h``, stalk coordinates of the signed sheaf
            (restriction maps :math:`\pm 1`, a high-pass diffusion) in the
            ``-constant`` variants, :math:`1 \le m + h < d`. (default: ``0``)
        epsilon (bool, optional): learned residual weights in every layer,
            :math:`\mathbf{X} \leftarrow (1 + \tanh \boldsymbol{\varepsilon}) \odot \mathbf{X} - \dots`
            (:class:`~topoequi.nn.conv.LocalHomologySheafConv`). (default: ``False``)
        residual_dropout (bool, optional): dropout on the whole state after every
            layer (``True``), or, as in Neural Sheaf Diffusion, only on the
            features entering each layer's Laplacian term, so the residual
            stream and the decoder input are not dropped (``False``). (default: ``True``)
        augmented (bool, optional): normalise the Laplacian by :math:`D + I`,
            :math:`(D + I)^{-1/2} L (D + I)^{-1/2}` (Neural Sheaf Diffusion's
            normalisation), not the attention variants, whose coefficients
            replace the normalisation. (default: ``False``)

    Shapes:
        - **input:** a :class:`~topoequi.topology.SimplicialComplex` with ``x``
          :math:`(|V|, F)`, ``edges``, ``triangles`` and, for ``conv`` /
          ``attention``, ``restriction`` (from :class:`~topoequi.transforms.AddLocalHomologySheaf`)
        - **output:** logits :math:`(|V|, \text{num\_classes})`
    """

    def __init__(self, in_channels: int, num_classes: int, hidden_channels: int = 16, stalk_width: int = 4,
                 num_layers: int = 2, variant: str = "conv", dropout: float = 0.5,
                 input_dropout: float = 0.0, constant_width: int = 1, epsilon: bool = False,
                 residual_dropout: bool = True, signed_width: int = 0, augmented: bool = False) -> None:
        super().__init__()
        kind = SheafVariant.parse(variant)
        variant = kind.name
        if kind.constant and not (min(constant_width, signed_width) >= 0
                                  and 1 <= constant_width + signed_width < stalk_width):
            raise ValueError(f"SheafNodeClassifier: variant {variant!r} needs constant_width, signed_width >= 0 "
                             "and 1 <= constant_width + signed_width < stalk_width, got "
                             f"constant_width={constant_width!r}, signed_width={signed_width!r}, "
                             f"stalk_width={stalk_width!r}")
        if augmented and kind.layer == "attention":
            raise ValueError(f"SheafNodeClassifier: augmented=True needs a normalised Laplacian, not {variant!r}")
        if signed_width and not kind.constant:
            raise ValueError(f"SheafNodeClassifier: signed_width needs a -constant variant, got {variant!r}")
        if num_layers < 1:
            raise ValueError(f"SheafNodeClassifier: num_layers must be >= 1, got {num_layers!r}")
        self.variant, self.kind, self.stalk_width, self.hidden = variant, kind, stalk_width, hidden_channels
        self.dropout, self.input_dropout = dropout, input_dropout
        self.constant_width, self.signed_width = constant_width, signed_width
        self.residual_dropout = residual_dropout
        inner = 0.0 if residual_dropout else dropout
        self.lin_in = Linear(in_channels, stalk_width * hidden_channels)
        persistent = kind.sheaf == "persistent"

        def make() -> torch.nn.Module:
            if kind.layer == "nsd":
                return NeuralSheafDiffusionConv(hidden_channels, stalk_width, epsilon=epsilon,
                                                diffusion_dropout=inner, augmented=augmented)
            if kind.layer == "attention":
                return LocalHomologySheafAttention(hidden_channels, stalk_width, persistent=persistent,
                                                   epsilon=epsilon, diffusion_dropout=inner)
            return LocalHomologySheafConv(hidden_channels, stalk_width, persistent=persistent, epsilon=epsilon,
                                          diffusion_dropout=inner, augmented=augmented)

        self.layers = ModuleList(make() for _ in range(num_layers))
        self.lin_out = Linear(stalk_width * hidden_channels, num_classes)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.lin_in.in_features}, {self.lin_out.out_features}, "
                f"variant={self.variant!r}, hidden_channels={self.hidden}, stalk_width={self.stalk_width}, "
                f"num_layers={len(self.layers)})")

    def reset_parameters(self) -> None:
        self.lin_in.reset_parameters()
        self.lin_out.reset_parameters()
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, data) -> Tensor:
        restriction = getattr(data, "restriction", None)
        if self.kind.sheaf == "local-homology" and restriction is None:
            raise ValueError("SheafNodeClassifier: variant "
                             f"{self.variant!r} needs data.restriction (apply AddLocalHomologySheaf)")
        if self.kind.constant:
            d = self.stalk_width - self.constant_width - self.signed_width
            restriction = with_constant_sheaf(restriction[..., :d, :d], self.constant_width, self.signed_width)
        x = F.dropout(data.x, self.input_dropout, self.training)
        x = F.elu(self.lin_in(x))
        x = F.dropout(x, self.dropout, self.training)
        x = x.view(-1, self.stalk_width, self.hidden)
        for layer in self.layers:
            x = layer(x, data.edges.t(), restriction, data.triangles)
            if self.residual_dropout:
                x = F.dropout(x, self.dropout, self.training)
        return self.lin_out(x.reshape(x.size(0), -1))
