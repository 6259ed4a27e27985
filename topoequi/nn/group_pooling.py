"""Group pooling: the maximum of each regular field over its group samples."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Rep, sampling_matrix
from topoequi.symmetry.sampled_graph import design_grid


class GroupPooling(nn.Module):
    r"""Invariant group pooling of regular fields,

    .. math::
        y_c = \max_{n} f_c(g_n),

    over all elements of a finite group (exactly invariant) or the evenly spread samples of
    SO(2) / O(2) (approximately). Fields are given either by their samples
    (:func:`~topoequi.nn.regular_fields.regular_field_rep`) or by their Fourier coefficients
    (``group.regular_rep(L).repeat(channels)``, evaluated at the samples first).

    Args:
        rep (Rep): the input fields.
        samples (int, optional): for fields given by coefficients of SO(2) / O(2), the number of
            samples on ``group.grid`` (e.g. a multiple of 4 rotations, exact for the grid's
            symmetries); ``None``: a well-conditioned design of ``dim`` samples. (default: ``None``)

    Shapes:
        - **input:** :math:`(B, \dim \rho, *)`
        - **output:** :math:`(B, C, *)`, ``C`` fields (``out_rep`` trivial)
    """

    def __init__(self, rep: Rep, samples: int | None = None):
        super().__init__()
        top = max((psi.frequency for psi, _ in rep.irreps), default=0)
        single = rep.group.regular_rep(None if rep.group.is_finite else top)
        self.channels, rest = divmod(rep.dim, single.dim)
        limit = None if rep.group.is_finite else top
        self.sampled = not rest and rep == regular_field_rep(rep.group, self.channels, limit)
        if not self.sampled:
            if rest or rep != single.repeat(self.channels):
                raise ValueError(f"GroupPooling: rep must hold regular fields, regular_field_rep(group, C) or "
                                 f"group.regular_rep(L).repeat(C); got {rep}")
            if rep.group.is_finite:
                elements = rep.group.elements()
            else:
                elements = design_grid(single) if samples is None else rep.group.grid(samples)
            self.register_buffer("sampling", sampling_matrix(single, elements), persistent=False)
        self.in_rep, self.out_rep = rep, rep.group.trivial_rep(self.channels)
        self.samples = single.dim if self.sampled else self.sampling.shape[0]

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != self.in_rep.dim:
            raise ValueError(f"GroupPooling: x must be [B, {self.in_rep.dim}, ...], got {list(x.shape)}")
        fields = x.unflatten(1, (self.channels, -1))
        if not self.sampled:
            fields = torch.einsum("ns,bcs...->bcn...", self.sampling.to(x.dtype), fields)
        return fields.amax(2)

    def extra_repr(self) -> str:
        return f"fields={self.channels}, samples={self.samples}, sampled_basis={self.sampled}"
