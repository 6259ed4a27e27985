"""Apply a fiber-wise equivariant layer at every pixel of an image field."""
from __future__ import annotations

from torch import Tensor, nn


class Pixelwise(nn.Module):
    r"""Runs a layer on feature vectors ``[N, dim]`` at every pixel of a field ``[B, dim, H, W]``:

    .. math::
        f'(p) = \Phi\big(f(p)\big),

    equivariant whenever :math:`\Phi` is (pixels are moved, fibers turned). The pixels are
    one batch, so :class:`~topoequi.nn.EquivariantBatchNorm` normalizes over batch and space.
    Use it for batch norm, gated, norm and Fourier nonlinearities, invariant projections.

    Args:
        layer (nn.Module): a layer on ``[N, dim]`` features with ``in_rep`` and ``out_rep``.

    Shapes:
        - **input:** :math:`(B, \dim \rho_{in}, *)`
        - **output:** :math:`(B, \dim \rho_{out}, *)`
    """

    def __init__(self, layer: nn.Module):
        super().__init__()
        if not hasattr(layer, "in_rep") or not hasattr(layer, "out_rep"):
            raise TypeError(f"Pixelwise: layer must have in_rep and out_rep, got {type(layer).__name__}")
        self.layer, self.in_rep, self.out_rep = layer, layer.in_rep, layer.out_rep

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"Pixelwise: x must be [B, {self.in_rep.dim}, ...] (in_rep {self.in_rep}), "
                             f"got {list(x.shape)}")
        fibers = x.movedim(1, -1)
        out = self.layer(fibers.reshape(-1, x.shape[1]))
        return out.view(*fibers.shape[:-1], -1).movedim(-1, 1)
