"""Regular fields stored by their samples on the group, and their batch normalization."""
from __future__ import annotations

from functools import cache

import torch
from torch import Tensor, nn

from topoequi.symmetry import Group, Rep, sampling_matrix
from topoequi.symmetry.sampled_graph import design_grid


@cache
def regular_field_rep(group: Group, channels: int, max_frequency: int | None = None) -> Rep:
    r"""``channels`` regular fields, each stored by its values at :math:`n` group samples.

    A field with Fourier coefficients :math:`\hat f` (``group.regular_rep(L)``) is stored as
    :math:`x = A \hat f / \sqrt{n}`, :math:`A` the sampling matrix at all elements of a finite
    group (then :math:`\rho(g)` permutes the samples and pointwise nonlinearities such as ReLU
    are exactly equivariant) or at :math:`n = \dim` evenly spread elements of SO(2) / O(2)
    (a Fourier nonlinearity with uniform sampling, approximately equivariant).
    The change of basis :math:`A / \sqrt{n}` must be orthogonal.
    """
    if not isinstance(channels, int) or channels < 0:
        raise ValueError(f"regular_field_rep: channels must be a non-negative int, got {channels!r}")
    single = group.regular_rep(max_frequency)
    elements = group.elements() if group.is_finite else design_grid(single)
    q = sampling_matrix(single, elements) / single.dim**0.5
    if q.shape[0] != q.shape[1] or (q @ q.T - torch.eye(q.shape[0], dtype=q.dtype)).abs().max() > 1e-9:
        raise ValueError(f"regular_field_rep: the {q.shape[0]} samples of {group} give no orthogonal basis of "
                         f"{single}")
    return Rep(group, single.irreps, q).repeat(channels)


class RegularBatchNorm(nn.Module):
    r"""Batch normalization of regular fields in the sample basis (:func:`regular_field_rep`):
    one mean, variance, scale and shift per field, shared by its samples,

    .. math::
        x_{c, s} \mapsto \gamma_c\, (x_{c, s} - \mu_c) / \sqrt{\sigma_c^2 + \epsilon} + \beta_c,

    statistics over batch, pixels and the :math:`n` samples. It is equivariant: the mean over
    samples is the invariant coefficient, the variance a rotation-invariant norm.

    Args:
        rep (Rep): ``regular_field_rep(group, channels, L)``.
        momentum (float, optional): running-statistics momentum. (default: ``0.1``)
        eps (float, optional): added to the variances. (default: ``1e-5``)

    Shapes:
        - **input:** :math:`(B, \dim \rho, *)` (images ``(B, C n, H, W)``)
        - **output:** same
    """

    def __init__(self, rep: Rep, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if not isinstance(rep, Rep):
            raise TypeError(f"RegularBatchNorm: rep must be a Rep, got {type(rep).__name__}")
        single = rep.group.regular_rep(max((psi.frequency for psi, _ in rep.irreps), default=0))
        self.samples = single.dim
        channels = rep.dim // single.dim
        if rep.dim % single.dim or rep != regular_field_rep(rep.group, channels, _band_limit(rep)):
            raise ValueError(f"RegularBatchNorm: rep must be regular_field_rep(group, channels, ...), got {rep}")
        self.in_rep = self.out_rep = rep
        self.norm = nn.BatchNorm2d(channels, eps=eps, momentum=momentum)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.norm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"RegularBatchNorm: x must be [B, {self.in_rep.dim}, ...], got {list(x.shape)}")
        return self.norm(x.reshape(x.shape[0], -1, self.samples, x[0, 0].numel())).view(x.shape)

    def extra_repr(self) -> str:
        return f"fields={self.norm.num_features}, samples={self.samples}"


def _band_limit(rep: Rep) -> int | None:
    return None if rep.group.is_finite else max(psi.frequency for psi, _ in rep.irreps)
