"""The groups of the plane: SO(2), O(2), C_N and D_N acting on R^2.

An element is ``g = R(theta) F^s`` with ``R`` a rotation, ``F = diag(1, -1)``
the flip ``y -> -y`` and ``s`` in {0, 1}; for C_N and D_N, ``theta`` is a
multiple of ``2 pi / N``. Irreps, in one real basis:

- rotation groups (SO(2), C_N), id ``(k,)``: ``k = 0`` the trivial irrep;
  ``0 < k`` (``k < N/2``) the 2-dim ``R(k theta)`` (complex type); for even N,
  ``k = N/2`` the 1-dim ``cos(k theta) = +-1``.
- reflection groups (O(2), D_N), id ``(j, k)``: ``(0, 0)`` trivial, ``(1, 0)``
  the determinant; ``(1, k)``, ``0 < k`` (``k < N/2``), the 2-dim
  ``R(k theta) F^s`` (real type); for even N, ``(j, N/2)``:
  ``cos(N theta / 2) (-1)^(j s)``.

Irrep labels in representation strings: ``"k"`` for the rotation groups and
for the 2-dim irreps of the reflection groups; a 1-dim irrep of a reflection
group adds ``e`` or ``o`` (even or odd under the flip): O(2) has ``0e``
(trivial), ``0o`` (determinant), ``1``, ``2``, ...; D4 has ``0e, 0o, 1, 2e, 2o``.
"""
from __future__ import annotations

import math
import re

import torch
from torch import Tensor

from topoequi.symmetry.group import Group, planar_angle_and_flip, rotation_2d, round_to_multiple
from topoequi.symmetry.representation import RepresentationFactories


class PlanarGroup(RepresentationFactories, Group):
    """SO(2) (``N=None``), O(2) (``N=None, reflections=True``), C_N or D_N on R^2."""

    d = 2

    def __init__(self, N: int | None = None, reflections: bool = False):
        if N is not None and (not isinstance(N, int) or N < 1):
            raise ValueError(f"PlanarGroup: N must be a positive integer or None, got {N!r}")
        self.N = N
        self.has_reflections = bool(reflections)
        if N is None:
            self.name = "O(2)" if reflections else "SO(2)"
            self.order = None
        else:
            self.name = f"D{N}" if reflections else f"C{N}"
            self.order = 2 * N if reflections else N

    @classmethod
    def from_name(cls, name: str) -> PlanarGroup | None:
        low = name.lower()
        if low in ("so(2)", "o(2)"):
            return cls(None, reflections=low == "o(2)")
        m = re.fullmatch(r"([cd])(\d+)", low)
        if m and int(m.group(2)) >= 1:
            return cls(int(m.group(2)), reflections=m.group(1) == "d")
        return None

    # -- irreps ---------------------------------------------------------------
    def _max_k(self, max_frequency: int) -> int:
        return max_frequency if self.N is None else min(max_frequency, self.N // 2)

    def _is_one_dim(self, k: int) -> bool:
        return k == 0 or (self.N is not None and 2 * k == self.N)

    def irrep_ids(self, max_frequency: int) -> list[tuple]:
        ids = []
        for k in range(self._max_k(max_frequency) + 1):
            if not self.has_reflections:
                ids.append((k,))
            elif self._is_one_dim(k):
                ids += [(0, k), (1, k)]
            else:
                ids.append((1, k))
        return ids

    def _irrep_info(self, id: tuple) -> tuple[int, int, int]:
        ok = len(id) == (2 if self.has_reflections else 1) and all(isinstance(i, int) for i in id)
        k = id[-1] if ok else -1
        if ok and k >= 0 and (self.N is None or k <= self.N // 2):
            if self._is_one_dim(k):
                if not self.has_reflections or id[0] in (0, 1):
                    return 1, 1, k
            elif not self.has_reflections or id[0] == 1:
                return 2, (1 if self.has_reflections else 2), k
        raise ValueError(f"{self.name} has no irrep {id}; valid ids look like "
                         f"{self.irrep_ids(2)}")

    def irrep_label(self, id: tuple) -> str:
        k = id[-1]
        return f"{k}{'eo'[id[0]]}" if self.has_reflections and self._is_one_dim(k) else str(k)

    def _angle_and_flip(self, g2: Tensor) -> tuple[Tensor, Tensor]:
        theta, s = planar_angle_and_flip(g2)
        if self.N is not None:  # snap to the exact angle of the finite group
            theta = round_to_multiple(theta, self.N).to(g2.dtype) * (2 * math.pi / self.N)
        return theta, s

    def irrep_matrices(self, id: tuple, elements: Tensor) -> Tensor:
        theta, s = self._angle_and_flip(elements[..., :2, :2])
        k = id[-1]
        sign = 1 - 2 * s  # +1 for rotations, -1 for reflections
        if self._is_one_dim(k):
            value = torch.cos(k * theta) if k else torch.ones_like(theta)
            if self.has_reflections and id[0] == 1:
                value = value * sign
            return value[:, None, None]
        m = rotation_2d(k * theta)
        if self.has_reflections:
            m = torch.cat([m[..., :1], m[..., 1:] * sign[:, None, None]], dim=-1)
        return m

    # -- elements -------------------------------------------------------------
    def from_angle(self, theta: Tensor, flip: Tensor | None = None) -> Tensor:
        """``R(theta) F^flip`` as ``[B, 2, 2]`` matrices."""
        g = rotation_2d(theta)
        if flip is not None:
            sign = 1 - 2 * flip.to(g.dtype)
            g = torch.cat([g[..., :1], g[..., 1:] * sign[:, None, None]], dim=-1)
        return g

    def sample(self, n: int, generator=None, dtype=torch.float64, device=None) -> Tensor:
        if self.N is None:
            theta = torch.rand(n, generator=generator, dtype=dtype) * (2 * math.pi)
        else:
            theta = torch.randint(self.N, (n,), generator=generator).to(dtype) * (2 * math.pi / self.N)
        flip = torch.randint(2, (n,), generator=generator) if self.has_reflections else None
        return self.from_angle(theta, flip).to(device)

    def elements(self, dtype=torch.float64, device=None) -> Tensor:
        if self.N is None:
            return super().elements()
        return self._grid(self.order, dtype, device)

    def _grid(self, n: int, dtype, device) -> Tensor:
        rotations = n // 2 if self.has_reflections else n
        theta = torch.arange(rotations, dtype=dtype) * (2 * math.pi / rotations)
        if not self.has_reflections:
            return self.from_angle(theta).to(device)
        flip = torch.arange(2).repeat_interleave(rotations)
        return self.from_angle(theta.repeat(2), flip).to(device)

    def grid(self, n: int, dtype=torch.float64, device=None) -> Tensor:
        if self.N is not None:
            return super().grid(n, dtype, device)
        if n < 1 or (self.has_reflections and n % 2):
            raise ValueError(f"{self.name}.grid: n must be a positive{' even' if self.has_reflections else ''}"
                             f" integer, got {n}")
        return self._grid(n, dtype, device)

    def generators(self) -> Tensor:
        if self.N is not None:
            return self.elements()
        theta = torch.tensor([1.0, math.sqrt(2.0)], dtype=torch.float64)
        g = self.from_angle(theta)
        return torch.cat([g, self.reflection()]) if self.has_reflections else g

    def reflection(self) -> Tensor | None:
        if not self.has_reflections:
            return None
        return torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))[None]

    def _contains_orthogonal(self, g: Tensor, atol: float) -> Tensor:
        g2 = g[..., :2, :2]
        ok = torch.ones(g.shape[0], dtype=torch.bool, device=g.device)
        if not self.has_reflections:
            ok &= torch.linalg.det(g2) > 0
        if self.N is not None:
            theta, _ = planar_angle_and_flip(g2)
            step = 2 * math.pi / self.N
            ok &= (theta / step - torch.round(theta / step)).abs() * step <= atol * 10
        return ok


def SO2() -> PlanarGroup:
    """Continuous rotations of the plane."""
    return PlanarGroup(None, reflections=False)


def O2() -> PlanarGroup:
    """Continuous rotations and reflections of the plane."""
    return PlanarGroup(None, reflections=True)


def Cyclic(N: int) -> PlanarGroup:
    """C_N: rotations of the plane by multiples of 2 pi / N."""
    return PlanarGroup(N, reflections=False)


def Dihedral(N: int) -> PlanarGroup:
    """D_N: the N rotations of C_N and N reflections (order 2N)."""
    return PlanarGroup(N, reflections=True)
