"""Equivariant frames: a group element predicted from a band-limited function on the group.

For a feature ``f`` of the band-limited regular representation (the Fourier
coefficients of a function on G, see :mod:`topoequi.symmetry.fourier`), a
*frame* is an element ``U(f)`` of G with

    U(rho_reg(g) f) = g U(f)    for all g in G.

Sampling ``f`` at ``U(f) g_1, ..., U(f) g_N`` then sees the same values for
``f`` and for every transformed ``g . f``: the samples move with the data.

The frame is built from the frequency-1 coefficients, whose columns are
vectors ``c_1, c_2, ...`` that transform by ``g`` itself:

- SO(2): ``U = [e_1, J e_1]`` with ``e_1 = c_1 / |c_1|`` and ``J`` the rotation by 90 degrees.
- SO(3): Gram-Schmidt, ``U = [e_1, e_2, e_1 x e_2]``.
- O(2), O(3): the same vectors give a rotation ``U_+``, but a continuous map
  cannot pick the determinant of ``U``: on its two components G is
  disconnected. We use *both* frames ``U_sigma = U_+ diag(1, .., 1, sigma)``,
  ``sigma = +-1``, with weights ``w_sigma = (1 + sigma tanh(p / (tau |f|))) / 2``
  from the pseudo-scalar ``p`` (the coefficient of the determinant irrep,
  ``p(g . f) = det(g) p(f)``). Since ``U_sigma(g . f) = g U_{sigma det g}(f)`` and
  ``w_sigma(g . f) = w_{sigma det g}(f)``, every sum
  ``sum_sigma w_sigma Phi(U_sigma)`` of an equivariant ``Phi`` stays *exactly*
  equivariant, reflections included, and continuous across ``p = 0``.
- SO(2) or O(2) acting on the xy plane of R^3 (``Axial``): the planar frame, embedded.

Where the frame is ill-defined (``c_1 = 0``, or ``c_1`` parallel to ``c_2`` in
3D) it is replaced by the identity, and :attr:`confidence` reports an
invariant weight in [0, 1] that is 1 wherever the frame is well-defined
(strength ``s >= min_strength``) and falls smoothly to 0 with ``s``:
``s = sqrt(D / 2) |c_1| / |f|`` in 2D, ``s = (D / 3) |c_1 x c_2| / |f|^2`` in 3D
(``D = rep.dim``), scaled so that i.i.d. Gaussian coefficients give ``s`` of order 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from topoequi.symmetry.fourier import check_regular
from topoequi.symmetry.planar import PlanarGroup
from topoequi.symmetry.representation import Rep
from topoequi.symmetry.spatial import Axial, WithReflection

FRAME_GROUPS = ("SO(2)", "O(2)", "SO(2)@R3", "O(2)@R3", "SO(3)", "O(3)")
_TINY = 1e-30


@dataclass
class Frames:
    """The output of :class:`FourierFrame` for features ``[..., dim]``.

    Attributes:
        elements: ``[..., K, d, d]`` frames (``K = 2`` for groups with two
            components, one frame of each determinant; else ``K = 1``).
        weights: ``[..., K]`` non-negative weights summing to 1.
        confidence: ``[...]`` invariant weight in [0, 1]: 1 where the frame is
            well-defined, smoothly down to 0 where it degenerates.
    """

    elements: Tensor
    weights: Tensor
    confidence: Tensor


def smoothstep(t: Tensor) -> Tensor:
    """``3 t^2 - 2 t^3`` on [0, 1], clamped: a C^1 step from 0 to 1."""
    t = t.clamp(0.0, 1.0)
    return t * t * (3 - 2 * t)


class FourierFrame:
    r"""The equivariant frame :math:`U(f) \in G` of a band-limited function ``f``.

    Args:
        rep (Rep): one band-limited regular representation ``G.regular_rep(L)``
            with ``L >= 1``, for G in ``FRAME_GROUPS``.
        min_strength (float, optional): strength of the frequency-1 part above
            which the frame is fully trusted. (default: ``1e-3``)
        temperature (float, optional): softness ``tau`` of the choice between the
            two components (groups with reflections). (default: ``0.1``)

    Exactness: ``U(g . f) = g U(f)`` holds to rounding wherever the strength is
    positive; :class:`Frames` ``.confidence`` is exactly invariant. With two
    components the second frame is ``U_+ F`` for the fixed element :attr:`flip` ``F``.
    """

    def __init__(self, rep: Rep, min_strength: float = 1e-3, temperature: float = 0.1):
        if not isinstance(rep, Rep):
            raise TypeError(f"FourierFrame: rep must be a Rep, got {type(rep).__name__}")
        check_regular(rep)
        group = rep.group
        if group.name not in FRAME_GROUPS:
            raise ValueError(f"FourierFrame: no equivariant frame for {group.name}; supported groups: "
                             f"{', '.join(FRAME_GROUPS)} (a finite group needs none: sample all its elements)")
        if not min_strength > 0 or not temperature > 0:
            raise ValueError(f"FourierFrame: min_strength and temperature must be positive, got "
                             f"{min_strength} and {temperature}")
        self.rep, self.group = rep, group
        self.min_strength, self.temperature = float(min_strength), float(temperature)
        self.planar = isinstance(group, (PlanarGroup, Axial))
        self.two_components = group.has_reflections or (isinstance(group, Axial) and group.planar.has_reflections)
        offsets = rep.copy_offsets()
        vector = group.irrep(1, 1) if self.two_components else group.irrep(1)  # O(3): parity-odd l=1
        if vector not in offsets:
            raise ValueError(f"FourierFrame: {rep} has no frequency-1 part to build a frame from; "
                             f"use {group.name}.regular_rep(L) with L >= 1")
        self.vector_offsets = offsets[vector][: 1 if self.planar else 2]  # columns c_1 (, c_2): act by g
        self.pseudo_offset = None
        if self.two_components:
            pseudo = group.irrep(0, 1) if isinstance(group, WithReflection) else group.irrep(1, 0)
            self.pseudo_offset = offsets[pseudo][0]
        q = _standard_basis(vector, 2 if self.planar else 3)  # irrep -> standard coordinates
        self.to_standard = None if torch.equal(q, torch.eye(q.shape[0], dtype=q.dtype)) else q
        self.flip = None  # F with U_- = U_+ F, an element of G
        if self.two_components:
            dim = 2 if self.planar else 3
            flip = torch.diag(torch.tensor([1.0] * (dim - 1) + [-1.0], dtype=torch.float64))
            self.flip = _embed_planar(flip[None])[0] if self.planar and group.d == 3 else flip

    @property
    def num_frames(self) -> int:
        return 2 if self.two_components else 1

    def proper(self, f: Tensor, check: bool = True) -> tuple[Tensor, Tensor, Tensor]:
        """The proper frame ``U_+``, the weights ``[..., K]`` of ``(U_+, U_+ F)`` and the confidence of
        features ``f [..., rep.dim]``. For planar groups ``U_+ = [e_1, J e_1]`` is returned as its first
        column ``e_1 [..., 2]`` (zero where the frame is undefined); else as ``[..., 3, 3]`` rotations
        (the identity where it is undefined)."""
        if check:
            self.rep.check_features(f, "FourierFrame: f")
        dim = 2 if self.planar else 3
        c1, *c2 = (f[..., o:o + dim] for o in self.vector_offsets)
        if self.to_standard is not None:
            q = self.to_standard.to(dtype=f.dtype, device=f.device)
            c1, *c2 = (c @ q.T for c in (c1, *c2))
        inv_f = 1 / f.norm(dim=-1).clamp_min(_TINY)
        n1 = c1.norm(dim=-1, keepdim=True)
        e1 = c1 / n1.clamp_min(_TINY)
        if self.planar:
            strength = n1[..., 0] * inv_f * (f.shape[-1] / 2) ** 0.5
            rot = e1
        else:
            cross = torch.linalg.cross(c1, c2[0])
            n3 = cross.norm(dim=-1, keepdim=True)
            strength = n3[..., 0] * inv_f**2 * (f.shape[-1] / 3)
            e3 = cross / n3.clamp_min(_TINY)
            rot = torch.stack([e1, torch.linalg.cross(e3, e1), e3], -1)
            ok = strength > 0
            if not bool(ok.all()):
                rot = torch.where(ok[..., None, None], rot, torch.eye(dim, dtype=f.dtype, device=f.device))
        if self.two_components:
            t = torch.tanh(f[..., self.pseudo_offset] * inv_f / self.temperature)
            weights = torch.stack([1 + t, 1 - t], -1) / 2
        else:
            weights = torch.ones_like(strength)[..., None]
        return rot, weights, smoothstep(strength / self.min_strength)

    def __call__(self, f: Tensor) -> Frames:
        """Frames of features ``f [..., rep.dim]``."""
        rot, weights, confidence = self.proper(f)
        if self.planar:
            rot = torch.stack([rot, torch.stack([-rot[..., 1], rot[..., 0]], -1)], -1)
            ok = (confidence > 0)[..., None, None]
            rot = torch.where(ok, rot, torch.eye(2, dtype=f.dtype, device=f.device).expand_as(rot))
        if self.two_components:
            flip = torch.ones(rot.shape[-1], dtype=f.dtype, device=f.device)
            flip[-1] = -1
            frames = torch.stack([rot, rot * flip], -3)  # U_+, U_- = U_+ diag(1, .., -1) = U_+ F
        else:
            frames = rot[..., None, :, :]
        if self.planar and self.group.d == 3:  # Axial: h -> diag(h, det h)
            frames = _embed_planar(frames)
        return Frames(frames, weights, confidence)


def _standard_basis(vector_irrep, dim: int) -> Tensor:
    """``Q [dim, dim]`` with ``Q psi(g) = g Q`` (orthogonal): irrep coordinates -> standard ones."""
    group = vector_irrep.group
    gens = group.generators()
    g = gens[:, :dim, :dim] if group.d != dim else gens
    m = vector_irrep.matrices(gens)
    if (m - g).abs().max() < 1e-12:
        return torch.eye(dim, dtype=torch.float64)
    if group.d == dim and group.standard_rep.irreps == ((vector_irrep, 1),):
        q = group.standard_rep.change_of_basis_or_eye()
        if (q @ m @ q.T - g).abs().max() < 1e-10:
            return q
    raise ValueError(f"FourierFrame: cannot identify {vector_irrep} with the action of {group} on R^{dim}")


def _embed_planar(frames: Tensor) -> Tensor:
    """``[..., 2, 2]`` -> ``[..., 3, 3]`` as ``diag(h, det h)``."""
    out = frames.new_zeros(*frames.shape[:-2], 3, 3)
    out[..., :2, :2] = frames
    out[..., 2, 2] = frames[..., 0, 0] * frames[..., 1, 1] - frames[..., 0, 1] * frames[..., 1, 0]
    return out
