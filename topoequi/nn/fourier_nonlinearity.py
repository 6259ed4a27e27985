"""Fourier nonlinearity: a pointwise function applied to group samples of band-limited features."""
from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from topoequi.symmetry import GroupFourier, Rep
from topoequi.symmetry.frames import FourierFrame
from topoequi.symmetry.sampled_graph import design_grid

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "elu": F.elu, "relu": F.relu, "silu": F.silu, "gelu": F.gelu, "tanh": torch.tanh,
    "sigmoid": torch.sigmoid, "softplus": F.softplus,
}


class FourierNonlinearity(nn.Module):
    r"""Pointwise nonlinearity on samples of a function on the group, with
    uniform or adaptive sampling, from `"Adaptive Sampling for Continuous
    Group Equivariant Neural Networks" <https://arxiv.org/abs/2409.08741>`_.

    Each channel of the input holds the Fourier coefficients :math:`\hat f`
    of a band-limited function on G (a copy of ``G.regular_rep(L)``). With the
    sampling matrix :math:`A` of samples :math:`g_1..g_N` (row :math:`n`
    evaluates the function at :math:`g_n`), uniform sampling computes

    .. math::
        \Phi(\hat f) = A^{+} \sigma(A \hat f),

    which is exactly equivariant for a finite group sampled at all its
    elements and only approximately for a continuous group (a rotated input
    is sampled at other points; the error falls with :math:`N`). Adaptive
    sampling moves the samples to :math:`U(\hat f) g_n`, with a frame
    :math:`U` (see :class:`~topoequi.symmetry.frames.FourierFrame`) that
    satisfies :math:`U(\rho(g)\hat f) = g U(\hat f)`:

    .. math::
        \Phi_{ad}(\hat f) = \beta \sum_{s} w_s\, \rho(U_s) A^{+}
        \sigma\big(A \rho(U_s)^\top \hat f\big) + (1 - \beta) A^{+} \sigma(A \hat f),

    with one frame per component of G (weights :math:`w_s`, two for O(2) and
    O(3)) and an invariant confidence :math:`\beta`. :math:`\Phi_{ad}` is
    *exactly* equivariant (to rounding, reflections included) for every
    :math:`N \ge \dim \rho` wherever :math:`\beta = 1`, i.e. wherever the
    frequency-1 part has relative strength at least ``min_strength``; below
    it, the output blends continuously into uniform sampling on the same
    points, and its equivariance error is at most :math:`1 - \beta` times the
    uniform one. For finite groups, all elements are sampled and both modes
    are exact.

    Args:
        rep (Rep): ``channels`` copies of one band-limited regular representation,
            ``G.regular_rep(L).repeat(channels)`` (irreps basis).
        sigma (str or callable, optional): pointwise function, one of
            ``ACTIVATIONS`` or a callable on tensors. (default: ``"elu"``)
        samples (int or Tensor, optional): number of samples on ``G.grid``, or
            explicit elements ``[N, d, d]``. ``None``: the fewest the band-limit
            allows, ``rep.dim / channels``, on a well-conditioned
            :func:`~topoequi.symmetry.sampled_graph.design_grid` (all elements
            for a finite group). (default: ``None``)
        adaptive (bool, optional): move the samples with the equivariant
            frame of each channel. (default: ``False``)
        min_strength (float, optional): relative strength of the
            frequency-1 part above which the frame is fully used. (default: ``1e-3``)
        temperature (float, optional): softness of the choice between the two
            components of O(2) / O(3). (default: ``0.1``)

    Shapes:
        - **input:** :math:`(*, \dim \rho)`
        - **output:** :math:`(*, \dim \rho)`
    """

    def __init__(self, rep: Rep, sigma: str | Callable[[Tensor], Tensor] = "elu",
                 samples: int | Tensor | None = None, adaptive: bool = False,
                 min_strength: float = 1e-3, temperature: float = 0.1):
        super().__init__()
        self.single, self.channels = _split_channels(rep)
        self.in_rep = self.out_rep = rep
        group = rep.group
        if isinstance(sigma, str):
            if sigma not in ACTIVATIONS:
                raise ValueError(f"FourierNonlinearity: sigma must be one of {sorted(ACTIVATIONS)} or a "
                                 f"callable, got {sigma!r}")
            sigma = ACTIVATIONS[sigma]
        elif not callable(sigma):
            raise TypeError(f"FourierNonlinearity: sigma must be a str or a callable, got {type(sigma).__name__}")
        self.sigma = sigma
        elements = self._elements(samples)
        try:
            fourier = GroupFourier(self.single, elements)
        except ValueError as err:
            raise ValueError(f"FourierNonlinearity: {err}") from err
        self.register_buffer("elements", elements, persistent=False)
        self.register_buffer("sampling", fourier.matrix, persistent=False)
        self.register_buffer("pinv", fourier.pinv, persistent=False)
        self.adaptive = bool(adaptive)
        self.frame = None
        if self.adaptive and not group.is_finite:
            self.frame = FourierFrame(self.single, min_strength=min_strength, temperature=temperature)
            a, p = fourier.matrix, fourier.pinv
            if self.frame.flip is not None:  # samples at U_+ g_n and U_+ F g_n in one product
                r = self.single.matrices(self.frame.flip[None].to(a.dtype))[0]
                a, p = torch.cat([a, a @ r.T]), torch.cat([p, r @ p], 1)
            self.register_buffer("moved_sampling", a, persistent=False)
            self.register_buffer("moved_pinv", p, persistent=False)
            if self.frame.planar:  # 1-dim irreps (trivial on U_+), then 2-dim ones: R(k theta) on frequency k
                dims = [psi.dim for psi, m in self.single.irreps for _ in range(m)]
                self.planar_split = dims.count(1)
                assert dims == sorted(dims) and set(dims) <= {1, 2}
                self.planar_freq = [psi.frequency for psi, m in self.single.irreps if psi.dim == 2
                                    for _ in range(m)]
            else:  # irreps that are the rotation itself on proper elements need no evaluation
                rotations = group.sample(4, generator=torch.Generator().manual_seed(0))
                rotations = rotations * torch.linalg.det(rotations)[:, None, None]  # proper (O(3): times -I)
                self.identical = [psi.dim == 3 and bool(torch.allclose(
                    psi.group.irrep_matrices(psi.id, rotations), rotations, atol=1e-12))
                    for psi, _ in self.single.irreps]

    @classmethod
    def factory(cls, **kwargs) -> Callable[[Rep], FourierNonlinearity]:
        """``rep -> FourierNonlinearity(rep, **kwargs)``, e.g. for ``EquivariantMLP(nonlinearity=...)``."""
        return functools.partial(cls, **kwargs)

    def _elements(self, samples: int | Tensor | None) -> Tensor:
        group, need = self.single.group, self.single.dim
        if samples is None:
            return design_grid(self.single)
        if isinstance(samples, bool) or not isinstance(samples, (int, Tensor)):
            raise TypeError(f"FourierNonlinearity: samples must be None, an int or a Tensor of group elements, "
                            f"got {type(samples).__name__}")
        n = samples if isinstance(samples, int) else samples.shape[0]
        if n < need:
            raise ValueError(f"FourierNonlinearity: {n} samples are too few for a well-posed least-squares "
                             f"inverse of {self.single}: the band-limit needs at least {need}")
        if isinstance(samples, Tensor):
            elements = group.check_elements(samples, "FourierNonlinearity: samples").to(torch.float64)
            if not bool(group.contains(elements).all()):
                raise ValueError(f"FourierNonlinearity: some samples are not elements of {group.name}")
            return elements
        if group.is_finite and samples != group.order:
            raise ValueError(f"FourierNonlinearity: a finite group is sampled at all its elements: "
                             f"samples must be None or {group.order}, got {samples}")
        try:
            return group.grid(samples)
        except ValueError as err:
            raise ValueError(f"FourierNonlinearity: samples: {err}") from err

    def _rotations(self, u: Tensor) -> tuple[Tensor, Tensor] | list[Tensor | None]:
        """``rho(U_+)`` from :meth:`FourierFrame.proper`: for planar groups ``(cos, sin)`` of
        ``k theta`` for the 2-dim copies ``[..., K]``, else one matrix per irrep (``None`` for 1-dim
        irreps, which are trivial on proper frames of every group with a frame)."""
        if self.frame.planar:
            z = torch.complex(u[..., 0], u[..., 1])
            powers = [z]
            for _ in range(max(self.planar_freq) - 1):
                powers.append(powers[-1] * z)
            zk = torch.view_as_real(torch.stack([powers[k - 1] for k in self.planar_freq], -1))
            return zk[..., 0], zk[..., 1]
        flat = u.reshape(-1, *u.shape[-2:])
        return [None if psi.dim == 1 else u if same else psi.group.irrep_matrices(psi.id, flat).reshape(
            *u.shape[:-2], psi.dim, psi.dim) for (psi, _), same in zip(self.single.irreps, self.identical)]

    def _act(self, f: Tensor, mats: tuple[Tensor, Tensor] | list[Tensor | None], inverse: bool) -> Tensor:
        """``rho(U) f`` (``rho(U)^T f`` if ``inverse``), block by block, for ``f [..., D]``."""
        if isinstance(mats, tuple):  # planar: a 2-dim copy (a, b) of frequency k turns by k theta
            cos, sin = mats
            sin = -sin if inverse else sin
            a, b = f[..., self.planar_split::2], f[..., self.planar_split + 1::2]
            turned = torch.stack([a * cos - b * sin, a * sin + b * cos], -1).flatten(-2)
            return torch.cat([f[..., :self.planar_split], turned], -1)
        out, start = [], 0
        for (psi, m), mat in zip(self.single.irreps, mats):
            block = f[..., start:start + psi.dim * m]
            start += psi.dim * m
            if mat is not None:  # rows are the copies (columns c of F_psi): c^T psi(U) = (psi(U)^T c)^T
                rows = block.reshape(*block.shape[:-1], m, psi.dim)
                block = (rows @ (mat if inverse else mat.transpose(-1, -2))).flatten(-2)
            out.append(block)
        return torch.cat(out, -1)

    def pointwise(self, f: Tensor) -> Tensor:
        """``A^+ sigma(A f)`` on coefficients ``[..., D]`` of one copy."""
        a = self.sampling.to(f.dtype)
        return self.sigma(f @ a.T) @ self.pinv.to(f.dtype).T

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "FourierNonlinearity: x")
        f = x.reshape(*x.shape[:-1], self.channels, self.single.dim)
        if self.frame is None:
            return self.pointwise(f).reshape(x.shape)
        u, weights, beta = self.frame.proper(f, check=False)
        mats = self._rotations(u)  # of U_+; the other frame, if any, is U_+ F
        samples = self.sigma(self._act(f, mats, inverse=True) @ self.moved_sampling.to(f.dtype).T)
        if self.frame.num_frames == 2:
            samples = (samples.unflatten(-1, (2, -1)) * weights[..., None]).flatten(-2)
        out = self._act(samples @ self.moved_pinv.to(f.dtype).T, mats, inverse=False)
        low = beta < 1
        if bool(low.any()):
            b = beta[low][..., None]
            out = out.index_put((low,), b * out[low] + (1 - b) * self.pointwise(f[low]))
        return out.reshape(x.shape)

    def extra_repr(self) -> str:
        return (f"{self.single} x {self.channels}, samples={self.sampling.shape[0]}, "
                f"adaptive={self.adaptive}")


def _split_channels(rep: Rep) -> tuple[Rep, int]:
    """``rep = single.repeat(channels)`` with ``single`` a band-limited regular representation, or a ``ValueError``."""
    if not isinstance(rep, Rep):
        raise TypeError(f"FourierNonlinearity: rep must be a Rep, got {type(rep).__name__}")
    group = rep.group
    top = max((psi.frequency for psi, _ in rep.irreps), default=-1)
    single = group.regular_rep(top) if top >= 0 else None
    channels = rep.dim // single.dim if single is not None else 0
    if single is None or rep.change_of_basis is not None or rep.irreps != single.irreps * channels:
        raise ValueError(f"FourierNonlinearity: rep must be channels copies of one band-limited regular "
                         f"representation, {group.name}.regular_rep(L).repeat(channels) (irreps basis); got {rep}")
    return single, channels
