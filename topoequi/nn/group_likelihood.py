"""A learnable likelihood over a group: the degree of equivariance of a layer."""
from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn

from topoequi.symmetry import Group, GroupFourier, sampling_matrix

DEFAULT_ROTATIONS_PER_FREQUENCY = 4  # continuous groups: 4 (L + 1) rotations per component by default


class GroupLikelihood(nn.Module):
    r"""A probability density :math:`\lambda` over a compact group :math:`G`, from
    `"A Probabilistic Approach to Learning the Degree of Equivariance in Steerable CNNs"
    <https://arxiv.org/abs/2406.03946>`_ (Veefkind & Cesa, ICML 2024).

    Its logits are a band-limited function with learnable Fourier coefficients
    :math:`\hat f` (a feature of ``G.regular_rep(L)``, see
    :mod:`topoequi.symmetry.fourier`), normalized to a density w.r.t. the Haar
    probability measure by a softmax over a grid :math:`g_1..g_S` of :math:`G`:

    .. math::
        \lambda(g) = \frac{\exp f(g)}{Z}, \qquad f(g) = A(g)\hat f,
        \qquad Z = \frac{1}{S}\sum_s \exp f(g_s),

    so that :math:`w_s = \lambda(g_s) / S` (:meth:`weights`) sum to one. The
    grid is all elements of a finite group and an equispaced grid of a planar
    group: then the sums are the Haar integrals of band-limited functions.
    The initial coefficients (trivial one 1, the rest 0) give the uniform
    :math:`\lambda = 1`, i.e. a fully :math:`G`-equivariant layer. A layer
    owns one likelihood, or several layers share one module.

    Args:
        group (Group): the group :math:`G`.
        max_frequency (int, optional): band-limit :math:`L` of the logits; all
            irreps of a finite group when ``None``. (default: ``None``)
        grid_size (int, optional): number of grid elements of a continuous group;
            ``None``: :math:`4 (L + 1)` rotations per component. (default: ``None``)
        learnable (bool, optional): learn the coefficients (else a fixed buffer).
            (default: ``True``)

    Shapes:
        - **weights():** :math:`(S,)`
        - **density(elements):** :math:`(B, d, d) \to (B,)`
    """

    def __init__(self, group: Group, max_frequency: int | None = None, grid_size: int | None = None,
                 learnable: bool = True):
        super().__init__()
        if not isinstance(group, Group):
            raise TypeError(f"GroupLikelihood: group must be a topoequi Group, got {type(group).__name__}")
        if max_frequency is not None and (isinstance(max_frequency, bool) or not isinstance(max_frequency, int)
                                          or max_frequency < 0):
            raise ValueError(f"GroupLikelihood: max_frequency must be a non-negative int or None, got "
                             f"{max_frequency!r}")
        if group.is_finite:
            top = max(psi.frequency for psi in group.irreps())
            if max_frequency is not None and max_frequency > top:
                raise ValueError(f"GroupLikelihood: max_frequency={max_frequency} is beyond what the {group.order} "
                                 f"elements of {group} resolve (its highest irrep frequency is {top})")
            if grid_size is not None and grid_size != group.order:
                raise ValueError(f"GroupLikelihood: grid_size must be None or {group.order} (all elements of "
                                 f"{group}), got {grid_size}")
            max_frequency = top if max_frequency is None else max_frequency
            grid = group.elements()
        else:
            if max_frequency is None:
                raise ValueError(f"GroupLikelihood: max_frequency is required for the continuous group {group}")
            if grid_size is None:  # planar: 4 (L + 1) rotations per component; at least twice the coefficients
                components = 2 if group.has_reflections else 1
                grid_size = max(components * DEFAULT_ROTATIONS_PER_FREQUENCY * (max_frequency + 1),
                                2 * group.regular_rep(max_frequency).dim)
            if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < 1:
                raise ValueError(f"GroupLikelihood: grid_size must be a positive int, got {grid_size!r}")
            grid = group.grid(grid_size)
        self.group, self.max_frequency = group, max_frequency
        self.rep = group.regular_rep(max_frequency)
        try:
            fourier = GroupFourier(self.rep, grid)
        except ValueError as err:
            raise ValueError(f"GroupLikelihood: band-limit max_frequency={max_frequency} is beyond what the grid "
                             f"of {grid.shape[0]} elements of {group} resolves: {err}") from err
        self.register_buffer("grid", grid, persistent=False)
        self.register_buffer("sampling", fourier.matrix, persistent=False)
        if learnable:
            self.coefficients = nn.Parameter(torch.empty(self.rep.dim))
        else:
            self.register_buffer("coefficients", torch.empty(self.rep.dim))
        self.learnable = bool(learnable)
        self.reset_parameters()

    @property
    def trivial_index(self) -> int:
        """Position of the trivial irrep's coefficient."""
        for psi, start, _ in self.rep.entries():
            if psi.is_trivial:
                return start
        raise AssertionError("a regular representation holds the trivial irrep")

    @property
    def num_samples(self) -> int:
        return self.grid.shape[0]

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.coefficients.zero_()
            self.coefficients[self.trivial_index] = 1.0

    # -- the density ------------------------------------------------------------
    def logits(self, elements: Tensor | None = None) -> Tensor:
        """:math:`f(g)` at ``elements [B, d, d]`` (at the grid when ``None``)."""
        c = self.coefficients
        if elements is None:
            return self.sampling.to(c.dtype) @ c
        return sampling_matrix(self.rep, self.group.check_elements(elements)).to(c.dtype) @ c

    def log_normalizer(self) -> Tensor:
        r""":math:`\log Z = \log \frac1S \sum_s \exp f(g_s)`."""
        return torch.logsumexp(self.logits(), 0) - math.log(self.num_samples)

    def weights(self) -> Tensor:
        """Quadrature weights :math:`w_s = \\lambda(g_s) / S` of the grid; they sum to one."""
        return torch.softmax(self.logits(), 0)

    def density(self, elements: Tensor | None = None) -> Tensor:
        """:math:`\\lambda(g)` at ``elements`` (the grid when ``None``). Its mean over the grid is one; its
        Haar mean too for a finite group, and to the grid's quadrature error (spectrally small:
        :math:`\\exp f` is smooth) for a planar one."""
        return torch.exp(self.logits(elements) - self.log_normalizer())

    def density_coefficients(self) -> Tensor:
        """Fourier coefficients of :math:`\\lambda` up to the band-limit (trivial one: exactly 1)."""
        return self.sampling.to(self.coefficients.dtype).T @ self.weights()

    def alignment(self) -> Tensor:
        """:math:`\\max_s f(g_s) - f(e) \\ge 0`: zero exactly when the identity is a mode."""
        identity = self.group.identity(1, dtype=self.grid.dtype, device=self.grid.device)
        return (self.logits().max() - self.logits(identity)[0]).clamp_min(0)

    @torch.no_grad()
    def shrink_(self, amount: float) -> GroupLikelihood:
        r"""Proximal step of the group lasso :math:`a \sum_{\psi \ne 1} \sqrt{n_\psi}\, \|\hat f_\psi\|`
        on the logits' coefficients (:math:`\hat f_\psi` the :math:`n_\psi` coefficients of a non-trivial
        irrep :math:`\psi`; the trivial one, a constant of the logits, is kept):

        .. math::
            \hat f_\psi \leftarrow \hat f_\psi \max\big(0,\ 1 - a \sqrt{n_\psi} / \|\hat f_\psi\|\big).

        Applied after every optimizer step (:math:`a` = learning rate times a weight), it keeps whole
        irreps of the logits at exactly zero unless the loss pushes them out faster. Logits with only
        irreps that are trivial on a normal subgroup :math:`H` give a :math:`\lambda` constant on the
        cosets of :math:`H`, hence an exactly :math:`H`-equivariant relaxed layer: in :math:`D_N`,
        :math:`f(g) = c_0 + c_1 \det g` is constant on the rotations :math:`C_N` and on the mirrors, at
        any mass on :math:`C_N`. Returns ``self``."""
        if not (isinstance(amount, (int, float)) and amount >= 0 and math.isfinite(amount)):
            raise ValueError(f"GroupLikelihood: amount must be a non-negative float, got {amount!r}")
        for psi, start, mult in self.rep.entries():
            if not psi.is_trivial:
                block = self.coefficients[start:start + psi.dim * mult]
                norm = float(block.norm())
                block.mul_(max(0.0, 1.0 - amount * math.sqrt(block.numel()) / norm) if norm > 0 else 0.0)
        return self

    def entropy(self) -> Tensor:
        r"""Differential entropy w.r.t. the Haar probability measure: :math:`-\mathrm{KL}(\lambda \| 1) \le 0`.

        As a penalty it concentrates :math:`\lambda` without choosing its symmetry: entropy is invariant
        under translations, so its gradient keeps a :math:`\lambda` that is invariant under a subgroup
        :math:`H` (constant on the cosets :math:`Hg`, an exactly :math:`H`-equivariant layer) invariant,
        and among such densities, :math:`\lambda = \sum_c p_c\, [G:H]\, 1_{c}`, the entropy
        :math:`-\log [G:H] + S(p)` (:math:`S` the Shannon entropy of the coset masses) is smallest at
        the Haar measure of one coset (of :math:`H` itself when the identity is a mode). Uniform is a
        stationary maximum: the penalty never breaks a symmetry by itself."""
        return -kl_divergence(self, None)

    # -- subgroups --------------------------------------------------------------
    def subgroup_mask(self, subgroup: Group) -> Tensor:
        """Boolean ``[S]``: the grid elements that lie in ``subgroup``; ``ValueError`` if it is not one of G's."""
        if not isinstance(subgroup, Group):
            raise TypeError(f"GroupLikelihood: subgroup must be a topoequi Group, got {type(subgroup).__name__}")
        if subgroup.d != self.group.d or not bool(self.group.contains(subgroup.generators()).all()):
            raise ValueError(f"GroupLikelihood: {self.group} has no subgroup {subgroup}")
        mask = subgroup.contains(self.grid.to(torch.float64))
        if subgroup.is_finite and int(mask.sum()) != subgroup.order:
            raise ValueError(f"GroupLikelihood: the grid of {self.num_samples} elements of {self.group} holds "
                             f"{int(mask.sum())} of the {subgroup.order} elements of {subgroup}; use a finer grid")
        return mask

    def subgroup_mass(self, subgroup: Group) -> Tensor:
        """Probability :math:`\\sum_{g_s \\in H} w_s` that :math:`\\lambda` gives the subgroup H."""
        return self.weights()[self.subgroup_mask(subgroup)].sum()

    @torch.no_grad()
    def concentrate_on(self, subgroup: Group, sharpness: float = 20.0) -> GroupLikelihood:
        """Set the logits to the band-limited least-squares fit of the indicator of H on the grid,
        rescaled so that they exceed their largest value off H by ``sharpness`` everywhere on H.

        The fit is constant on H (the projection commutes with translations by
        H). For a finite group with its full band it is the indicator itself; a
        continuous group resolves a finite H = C_N / D_N from band-limit N on.
        The mass outside H is then at most ``(S / |H|) exp(-sharpness)``.
        ``ValueError`` when the band-limit cannot separate H from the rest of the grid.
        """
        if not (isinstance(sharpness, (int, float)) and sharpness > 0 and math.isfinite(sharpness)):
            raise ValueError(f"GroupLikelihood: sharpness must be a positive float, got {sharpness!r}")
        mask = self.subgroup_mask(subgroup)
        sampling = self.sampling.to(torch.float64)
        fit = torch.linalg.lstsq(sampling, mask.to(torch.float64)[:, None]).solution[:, 0]
        values = sampling @ fit
        if bool(mask.all()):  # H holds the whole grid: the uniform density
            gap, fit = 1.0, torch.zeros_like(fit)
        else:
            gap = float(values[mask].min() - values[~mask].max())
        if gap <= 1e-6:
            raise ValueError(f"GroupLikelihood: band-limit max_frequency={self.max_frequency} cannot concentrate "
                             f"on {subgroup} within {self.group} (a finite C_N / D_N needs a band-limit of at "
                             f"least N)")
        coefficients = fit * (float(sharpness) / gap)
        self.coefficients.copy_(coefficients.to(self.coefficients.dtype))
        return self

    def extra_repr(self) -> str:
        return (f"group={self.group}, max_frequency={self.max_frequency}, samples={self.num_samples}, "
                f"learnable={self.learnable}")


def kl_divergence(p: GroupLikelihood, q: GroupLikelihood | None) -> Tensor:
    r""":math:`\mathrm{KL}(\lambda_p \| \lambda_q)` in the Fourier domain (``q=None``: the uniform density).

    :math:`\log \lambda_p - \log \lambda_q = (f_p - f_q) - (\log Z_p - \log Z_q)` is
    band-limited, so its integral against :math:`\lambda_p` is the inner product
    of coefficients (Parseval, orthonormal matrix coefficients):

    .. math::
        \mathrm{KL} = \langle \hat\lambda_p, \hat f_p - \hat f_q \rangle - \log Z_p + \log Z_q .
    """
    if q is not None and (q.group != p.group or q.max_frequency != p.max_frequency
                          or not torch.equal(q.grid, p.grid)):
        raise ValueError(f"kl_divergence: the likelihoods must share group, band-limit and grid; got "
                         f"{p.group} (L={p.max_frequency}, {p.num_samples} samples) and {q.group} "
                         f"(L={q.max_frequency}, {q.num_samples} samples)")
    diff = p.coefficients if q is None else p.coefficients - q.coefficients
    kl = p.density_coefficients() @ diff - p.log_normalizer()
    return kl if q is None else kl + q.log_normalizer()


def likelihood_kl_chain(likelihoods: Sequence[GroupLikelihood]) -> Tensor:
    r""":math:`\sum_l \mathrm{KL}(\lambda_l \| \lambda_{l-1})`, the first against uniform (a shared
    module repeated in a row adds zero)."""
    if not likelihoods:
        raise ValueError("likelihood_kl_chain: give at least one GroupLikelihood")
    total = kl_divergence(likelihoods[0], None)
    for prev, cur in pairwise(likelihoods):
        if cur is not prev:
            total = total + kl_divergence(cur, prev)
    return total
