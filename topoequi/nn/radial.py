"""Radial functions of edge lengths: Gaussian shells and a smooth cutoff."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def cosine_cutoff(r: Tensor, cutoff: float) -> Tensor:
    r"""Smooth envelope :math:`\tfrac12(\cos(\pi r / r_c) + 1)` for :math:`r < r_c`, else 0."""
    return torch.where(r < cutoff, 0.5 * (torch.cos(r * (math.pi / cutoff)) + 1.0), torch.zeros_like(r))


class GaussianRadialBasis(nn.Module):
    r"""Gaussian shells :math:`\phi_k(r) = \exp(-(r - \mu_k)^2 / (2 \sigma_k^2))` with
    centers evenly spaced on :math:`[0, r_c]` and, optionally, learned centers and widths.

    Args:
        num_basis (int): number of shells.
        cutoff (float): the cutoff radius :math:`r_c`.
        learnable (bool, optional): learn :math:`\mu_k` and :math:`\log \sigma_k`. (default: ``True``)

    Shapes:
        - **input:** :math:`(E,)`
        - **output:** :math:`(E, K)`
    """

    def __init__(self, num_basis: int, cutoff: float, learnable: bool = True):
        super().__init__()
        if num_basis < 1 or not cutoff > 0:
            raise ValueError(f"GaussianRadialBasis: need num_basis >= 1 and cutoff > 0, got {num_basis}, {cutoff}")
        self.num_basis, self.cutoff = num_basis, float(cutoff)
        if learnable:
            self.centers, self.log_width = nn.Parameter(torch.empty(num_basis)), nn.Parameter(torch.empty(num_basis))
        else:
            self.register_buffer("centers", torch.empty(num_basis))
            self.register_buffer("log_width", torch.empty(num_basis))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Centers evenly spaced on ``[0, cutoff]``, widths ``cutoff / num_basis``."""
        with torch.no_grad():
            self.centers.copy_(torch.linspace(0.0, self.cutoff, self.num_basis))
            self.log_width.fill_(math.log(self.cutoff / self.num_basis))

    def __repr__(self) -> str:
        learnable = isinstance(self.centers, nn.Parameter)
        return f"{self.__class__.__name__}({self.num_basis}, cutoff={self.cutoff}, learnable={learnable})"

    def forward(self, r: Tensor) -> Tensor:
        z = (r[..., None] - self.centers.to(r.dtype)) * torch.exp(-self.log_width.to(r.dtype))
        return torch.exp(-0.5 * z * z)
