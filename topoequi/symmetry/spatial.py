"""The groups of space: SO(3), O(3) and their subgroups acting on R^3.

- :class:`SO3`: irreps ``(l,)`` are the real Wigner matrices ``D^l`` in the
  basis of e3nn's real spherical harmonics, ``Y^l(R x) = D^l(R) Y^l(x)``. They
  are evaluated from the rotation matrix itself, with no Euler angles:
  ``D^l(R)^T = Y(P)^+ Y(R P)`` for a fixed well-conditioned point set ``P``.
- :class:`Axial`: a planar group (SO(2), O(2), C_N, D_N) acting on the xy plane
  as a subgroup of SO(3): ``h -> diag(h, det h)`` (a planar flip becomes the
  half-turn about the x axis). Irreps are those of the planar group.
- :class:`Octahedral`: the 24 rotations of the cube (signed permutation
  matrices of determinant 1) with irreps A1, A2, E, T1, T2.
- :class:`WithReflection`: ``H x {I, M}`` for a subgroup H of SO(3) and an
  improper involution M commuting with H (the inversion ``-I`` or the mirror
  ``z -> -z``). Irreps ``(id, p)``: ``psi(M^s h) = psi_H(h) (-1)^(p s)``. This
  gives O(3) = SO(3) x {+-I}, O_h, the inversion group C_i and the mirror C_s.
"""
from __future__ import annotations

import math
from functools import cache, lru_cache
from itertools import permutations, product
from typing import ClassVar

import torch
from torch import Tensor

from topoequi.symmetry.group import Group, group_from_name
from topoequi.symmetry.planar import PlanarGroup
from topoequi.symmetry.representation import RepresentationFactories

MAX_SPHERICAL_L = 12  # highest degree of e3nn's closed-form real spherical harmonics


def quaternion_to_matrix(q: Tensor) -> Tensor:
    """Unit quaternions ``[..., 4]`` (w, x, y, z) -> rotation matrices ``[..., 3, 3]``."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def axis_angle_to_matrix(axis: Tensor, angle: Tensor) -> Tensor:
    """Rotation by ``angle [...]`` about ``axis [..., 3]`` (Rodrigues)."""
    axis = axis / axis.norm(dim=-1, keepdim=True)
    half = angle[..., None] / 2
    return quaternion_to_matrix(torch.cat([torch.cos(half), torch.sin(half) * axis], -1))


def super_fibonacci_rotations(n: int, dtype=torch.float64) -> Tensor:
    """``n`` rotations spread evenly over SO(3): the super-Fibonacci spiral
    (Alexa, CVPR 2022), deterministic and nearly uniform for every ``n``."""
    phi = math.sqrt(2.0)
    psi = 1.533751168755204288118041  # the real root of psi^4 = psi + 4
    s = torch.arange(n, dtype=torch.float64) + 0.5
    r, big_r = torch.sqrt(s / n), torch.sqrt(1 - s / n)
    alpha, beta = 2 * math.pi * s / phi, 2 * math.pi * s / psi
    q = torch.stack([r * torch.sin(alpha), r * torch.cos(alpha),
                     big_r * torch.sin(beta), big_r * torch.cos(beta)], -1)
    return quaternion_to_matrix(q).to(dtype)


def _proper(g: Tensor) -> Tensor:
    return torch.linalg.det(g) > 0


class SO3(RepresentationFactories, Group):
    """All rotations of R^3; irrep labels ``"l"`` (``"0"``, ``"1"``, ...)."""

    name, d, order = "SO(3)", 3, None

    @classmethod
    def from_name(cls, name: str) -> SO3 | None:
        return cls() if name.lower() == "so(3)" else None

    def irrep_label(self, id: tuple) -> str:
        return str(id[0])

    def irrep_ids(self, max_frequency: int) -> list[tuple]:
        return [(l,) for l in range(max_frequency + 1)]

    def _irrep_info(self, id: tuple) -> tuple[int, int, int]:
        if len(id) != 1 or not isinstance(id[0], int) or id[0] < 0:
            raise ValueError(f"SO(3) irreps are labelled (l,) with l >= 0, got {id}")
        return 2 * id[0] + 1, 1, id[0]

    def irrep_matrices(self, id: tuple, elements: Tensor) -> Tensor:
        return wigner_matrices(id[0], elements)

    def sample(self, n, generator=None, dtype=torch.float64, device=None) -> Tensor:
        q = torch.randn(n, 4, generator=generator, dtype=torch.float64)
        return quaternion_to_matrix(q).to(dtype=dtype, device=device)

    def grid(self, n: int, dtype=torch.float64, device=None) -> Tensor:
        if n < 1:
            raise ValueError(f"SO(3).grid: n must be positive, got {n}")
        return super_fibonacci_rotations(n, dtype).to(device)

    def generators(self) -> Tensor:
        axes = torch.tensor([[1.0, 2.0, 3.0], [-2.0, 0.5, 1.0]], dtype=torch.float64)
        angles = torch.tensor([1.0, math.sqrt(2.0)], dtype=torch.float64)
        return torch.cat([axis_angle_to_matrix(axes, angles), super().generators()])

    def _contains_orthogonal(self, g: Tensor, atol: float) -> Tensor:
        return _proper(g)


@cache
def _sh_pinv(l: int, dtype: torch.dtype, device: str) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(l)
    points = torch.randn(2 * (2 * l + 1), 3, generator=gen, dtype=torch.float64)
    points = points / points.norm(dim=-1, keepdim=True)
    y = _spherical_harmonics(l, points)
    return points.to(dtype=dtype, device=device), torch.linalg.pinv(y).to(dtype=dtype, device=device)


def _spherical_harmonics(l: int, x: Tensor) -> Tensor:
    from e3nn.o3 import spherical_harmonics

    return spherical_harmonics(l, x, normalize=True, normalization="component")


def wigner_matrices(l: int, rotations: Tensor) -> Tensor:
    """Real Wigner matrices ``D^l`` (e3nn's basis) of ``[B, 3, 3]`` rotations."""
    if l == 0:
        return rotations.new_ones(rotations.shape[0], 1, 1)
    if l > MAX_SPHERICAL_L:
        from e3nn.o3 import Irrep as E3Irrep

        return E3Irrep(l, 1).D_from_matrix(rotations)
    points, pinv = _sh_pinv(l, rotations.dtype, str(rotations.device))
    y = _spherical_harmonics(l, points @ rotations.transpose(-1, -2))  # rows Y(R p_m)
    return (pinv @ y).transpose(-1, -2)


class Axial(RepresentationFactories, Group):
    """A planar group acting on the xy plane of R^3 as rotations: ``h -> diag(h, det h)``.

    Its irreps and their labels are those of the planar group.
    """

    d = 3

    def __init__(self, planar: PlanarGroup):
        if not isinstance(planar, PlanarGroup):
            raise TypeError(f"Axial: planar must be a PlanarGroup, got {type(planar).__name__}")
        self.planar = planar
        self.name = f"{planar.name}@R3"
        self.order = planar.order
        self.has_reflections = False  # a planar flip becomes a rotation by pi about x

    @classmethod
    def from_name(cls, name: str) -> Axial | None:
        if not name.lower().endswith("@r3"):
            return None
        planar = group_from_name(name[:-3])
        return cls(planar) if isinstance(planar, PlanarGroup) else None

    def irrep_ids(self, max_frequency):
        return self.planar.irrep_ids(max_frequency)

    def irrep_label(self, id):
        return self.planar.irrep_label(id)

    def _irrep_info(self, id):
        return self.planar._irrep_info(id)

    def irrep_matrices(self, id, elements):
        return self.planar.irrep_matrices(id, elements)

    def embed(self, h: Tensor) -> Tensor:
        g = torch.zeros(h.shape[0], 3, 3, dtype=h.dtype, device=h.device)
        g[:, :2, :2] = h
        g[:, 2, 2] = torch.linalg.det(h).sign()
        return g

    def sample(self, n, generator=None, dtype=torch.float64, device=None):
        return self.embed(self.planar.sample(n, generator, dtype, device))

    def elements(self, dtype=torch.float64, device=None):
        return self.embed(self.planar.elements(dtype, device))

    def grid(self, n, dtype=torch.float64, device=None):
        return self.embed(self.planar.grid(n, dtype, device))

    def generators(self):
        return self.embed(self.planar.generators())

    def _contains_orthogonal(self, g, atol):
        off = torch.cat([g[:, :2, 2], g[:, 2, :2]], 1).abs().amax(1) <= atol
        return off & _proper(g) & self.planar._contains_orthogonal(g[:, :2, :2], atol)


_PERM_E_BASIS = torch.tensor([[1 / math.sqrt(2), -1 / math.sqrt(2), 0.0],
                              [1 / math.sqrt(6), 1 / math.sqrt(6), -2 / math.sqrt(6)]],
                             dtype=torch.float64)


@lru_cache(maxsize=1)
def _octahedral_rotations() -> Tensor:
    """The 24 signed permutation matrices of determinant +1."""
    perms = torch.tensor(list(permutations(range(3))))
    signs = torch.tensor(list(product((1.0, -1.0), repeat=3)), dtype=torch.float64)
    mats = torch.zeros(6, 8, 3, 3, dtype=torch.float64)
    rows = torch.arange(3)
    for i, p in enumerate(perms):
        mats[i, :, rows, p] = signs
    mats = mats.reshape(48, 3, 3)
    return mats[torch.linalg.det(mats) > 0]


class Octahedral(RepresentationFactories, Group):
    """The 24 rotations of the cube, with irreps A1, A2, E, T1, T2 (also their labels).

    Writing ``g = S P`` (signed permutation), ``A2(g) = sign(P)``,
    ``T1(g) = g``, ``T2(g) = sign(P) g`` and ``E(g) = Q P Q^T`` where the rows of
    ``Q`` span the plane orthogonal to (1, 1, 1).
    """

    name, d, order = "O", 3, 24
    _ids = (("A1",), ("T1",), ("E",), ("T2",), ("A2",))
    _info: ClassVar[dict] = {("A1",): (1, 1, 0), ("T1",): (3, 1, 1), ("E",): (2, 1, 2),
             ("T2",): (3, 1, 2), ("A2",): (1, 1, 3)}

    @classmethod
    def from_name(cls, name: str) -> Octahedral | None:
        return cls() if name.lower() == "o" else None

    def irrep_ids(self, max_frequency):
        return [i for i in self._ids if self._info[i][2] <= max_frequency]

    def irrep_label(self, id):
        return id[0]

    def _irrep_info(self, id):
        if id not in self._info:
            raise ValueError(f"O has no irrep {id}; valid ids: {self._ids}")
        return self._info[id]

    def irrep_matrices(self, id, elements):
        perm = elements.abs().round()
        name = id[0]
        if name == "A1":
            return elements.new_ones(elements.shape[0], 1, 1)
        sign = torch.linalg.det(perm).round()[:, None, None]
        if name == "A2":
            return sign
        if name == "T1":
            return elements
        if name == "T2":
            return sign * elements
        q = _PERM_E_BASIS.to(dtype=elements.dtype, device=elements.device)
        return q @ perm @ q.T

    def elements(self, dtype=torch.float64, device=None):
        return _octahedral_rotations().to(dtype=dtype, device=device)

    def sample(self, n, generator=None, dtype=torch.float64, device=None):
        return self.elements(dtype, device)[torch.randint(24, (n,), generator=generator)]

    def _contains_orthogonal(self, g, atol):
        return ((g - g.round()).abs() <= atol).flatten(1).all(1) & _proper(g)


class WithReflection(RepresentationFactories, Group):
    """``H x {I, M}``: a subgroup H of SO(3) and an improper involution M that commutes with H.

    Irrep labels: H's label followed by ``e`` or ``o`` (even or odd under M),
    as e3nn's parity for O(3): ``"0e"``, ``"1o"``, ``"T1o"``.

    Args:
        base: the rotation group H.
        reflection: ``"inversion"`` (M = -I) or ``"mirror"`` (M = diag(1, 1, -1)).
    """

    d = 3
    has_reflections = True
    _special: ClassVar[dict] = {("SO(3)", "inversion"): "O(3)", ("O", "inversion"): "Oh",
                ("C1@R3", "inversion"): "Ci", ("C1@R3", "mirror"): "Cs"}

    def __init__(self, base: Group, reflection: str = "inversion"):
        if base.d != 3 or base.has_reflections:
            raise ValueError(f"WithReflection: base must be a rotation group of R^3, got {base}")
        diag = {"inversion": [-1.0, -1.0, -1.0], "mirror": [1.0, 1.0, -1.0]}
        if reflection not in diag:
            raise ValueError(f"WithReflection: reflection must be 'inversion' or 'mirror', got {reflection!r}")
        self.base, self.kind = base, reflection
        self._m = torch.diag(torch.tensor(diag[reflection], dtype=torch.float64))
        gens = base.generators()
        if not torch.allclose(gens @ self._m, self._m @ gens, atol=1e-12):
            raise ValueError(f"WithReflection: the {reflection} does not commute with {base}")
        self.name = self._special.get((base.name, reflection), f"{base.name}+{reflection}")
        self.order = None if base.order is None else 2 * base.order

    @classmethod
    def from_name(cls, name: str) -> WithReflection | None:
        special = {v.lower(): k for k, v in cls._special.items()}
        low = name.lower()
        if low in special:
            base, kind = special[low]
            return cls(group_from_name(base), kind)
        for kind in ("inversion", "mirror"):
            if low.endswith("+" + kind):
                return cls(group_from_name(name[: -len(kind) - 1]), kind)
        return None

    def irrep_ids(self, max_frequency):
        return [i + (p,) for i in self.base.irrep_ids(max_frequency) for p in (0, 1)]

    def irrep_label(self, id):
        return self.base.irrep_label(id[:-1]) + "eo"[id[-1]]

    def _irrep_info(self, id):
        if len(id) < 2 or id[-1] not in (0, 1):
            raise ValueError(f"{self.name} irreps are labelled (*{self.base.name} id, p) with p in "
                             f"{{0, 1}}, got {id}")
        return self.base._irrep_info(id[:-1])

    def _split(self, g: Tensor) -> tuple[Tensor, Tensor]:
        """``g = M^s h``: returns ``h`` and ``s`` (as +-1)."""
        sign = torch.linalg.det(g).sign()
        m = self._m.to(dtype=g.dtype, device=g.device)
        h = torch.where(sign[:, None, None] < 0, m @ g, g)
        return h, sign

    def irrep_matrices(self, id, elements):
        h, sign = self._split(elements)
        mat = self.base.irrep_matrices(id[:-1], h)
        return mat * sign[:, None, None] if id[-1] == 1 else mat

    def _attach(self, h: Tensor, s: Tensor) -> Tensor:
        m = self._m.to(dtype=h.dtype, device=h.device)
        return torch.where(s[:, None, None].bool(), m @ h, h)

    def sample(self, n, generator=None, dtype=torch.float64, device=None):
        h = self.base.sample(n, generator, dtype, device)
        return self._attach(h, torch.randint(2, (n,), generator=generator, device=h.device))

    def elements(self, dtype=torch.float64, device=None):
        h = self.base.elements(dtype, device)
        s = torch.arange(2, device=h.device).repeat_interleave(h.shape[0])
        return self._attach(h.repeat(2, 1, 1), s)

    def grid(self, n, dtype=torch.float64, device=None):
        if self.is_finite:
            return super().grid(n, dtype, device)
        if n < 2 or n % 2:
            raise ValueError(f"{self.name}.grid: n must be a positive even integer, got {n}")
        h = self.base.grid(n // 2, dtype, device)
        s = torch.arange(2, device=h.device).repeat_interleave(n // 2)
        return self._attach(h.repeat(2, 1, 1), s)

    def generators(self):
        return torch.cat([self.base.generators(), self._m[None]])

    def reflection(self):
        return self._m[None].clone()

    def _contains_orthogonal(self, g, atol):
        h, _ = self._split(g)
        return self.base._contains_orthogonal(h, atol)


def O3() -> WithReflection:
    """All rotations and reflections of R^3: SO(3) x {+-I}."""
    return WithReflection(SO3(), "inversion")
