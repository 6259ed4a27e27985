"""Groups and their irreducible representations.

Every group of topoequi is a closed subgroup of the orthogonal group O(d),
d = 2 or 3, and its elements are stored as what they are: batches of
orthogonal ``d x d`` matrices, shape ``[B, d, d]``. Composition is the matrix
product, the inverse the transpose, and the group's standard action on R^d is
the element itself. Each group lists its real irreducible representations
(irreps) in one fixed real basis, evaluated in batch by torch.
"""
from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor

GROUP_NAMES = ("SO(2)", "O(2)", "C<N>", "D<N>", "SO(3)", "O(3)", "SO(2)@R3", "O(2)@R3", "C<N>@R3",
               "D<N>@R3", "O", "Oh", "Ci", "Cs", "<rotation group of R3>+inversion|mirror")


@dataclass(frozen=True)
class Irrep:
    """A real irreducible representation of ``group``.

    Args:
        group: the group it belongs to.
        id: its label within the group, e.g. ``(l,)`` for SO(3), ``(j, k)`` for O(2).
        dim: its dimension.
        type_dim: dimension of its endomorphism algebra: 1 (real type), 2
            (complex type, e.g. the 2-dim irreps of SO(2)) or 4 (quaternionic).
        frequency: its band-limit order (k for planar groups, l for spatial ones).
    """

    group: Group
    id: tuple
    dim: int
    type_dim: int
    frequency: int

    def matrices(self, elements: Tensor) -> Tensor:
        """``[B, d, d]`` group elements -> ``[B, dim, dim]`` representation matrices."""
        return self.group.irrep_matrices(self.id, self.group.check_elements(elements))

    @property
    def is_trivial(self) -> bool:
        return self == self.group.trivial_irrep

    @property
    def label(self) -> str:
        """Its name in representation strings, e.g. ``"1o"`` for the vectors of O(3)."""
        return self.group.irrep_label(self.id)

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"{self.group.name}[{self.label}]"


class Group(ABC):
    """A compact subgroup of O(d) with its real irreps.

    Subclasses set ``name``, ``d`` (dimension of the space acted on),
    ``order`` (``None`` for continuous groups) and ``has_reflections``, and
    implement :meth:`irrep_ids`, :meth:`irrep_label`, :meth:`irrep_matrices`,
    :meth:`sample`, either :meth:`elements` (finite groups) or :meth:`grid`,
    and :meth:`from_name` for the names they answer to.
    """

    name: str
    d: int
    order: int | None = None
    has_reflections: bool = False

    # -- identity and hashing -------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):  # groups pickle by name
        return group_from_name, (self.name,)

    @classmethod
    def from_name(cls, name: str) -> Group | None:
        """The group of this class called ``name`` (case-insensitive), or ``None``."""
        return None

    @property
    def is_finite(self) -> bool:
        return self.order is not None

    # -- irreps ---------------------------------------------------------------
    @abstractmethod
    def irrep_ids(self, max_frequency: int) -> list[tuple]:
        """Ids of all irreps of frequency at most ``max_frequency``, sorted by frequency."""

    @abstractmethod
    def _irrep_info(self, id: tuple) -> tuple[int, int, int]:
        """``(dim, type_dim, frequency)`` of irrep ``id``; ``ValueError`` if there is none."""

    @abstractmethod
    def irrep_matrices(self, id: tuple, elements: Tensor) -> Tensor:
        """Matrices of irrep ``id`` at ``[B, d, d]`` elements (no input checks)."""

    @abstractmethod
    def irrep_label(self, id: tuple) -> str:
        """The label of irrep ``id`` in representation strings; its first integer is the frequency."""

    def irrep(self, *id) -> Irrep:
        """The irrep with label ``id``, e.g. ``SO3().irrep(2)`` or ``O2().irrep(1, 3)``."""
        if len(id) == 1 and isinstance(id[0], tuple):
            id = id[0]
        id = tuple(int(i) if isinstance(i, (int, bool)) or hasattr(i, "__index__") else i for i in id)
        dim, type_dim, frequency = self._irrep_info(id)
        return Irrep(self, id, dim, type_dim, frequency)

    def irreps(self, max_frequency: int | None = None) -> list[Irrep]:
        """All irreps up to ``max_frequency`` (all of them for a finite group)."""
        if max_frequency is None:
            if not self.is_finite:
                raise ValueError(f"{self.name}: max_frequency is required for a continuous group")
            max_frequency = 10**6
        return [self.irrep(i) for i in self.irrep_ids(max_frequency)]

    def parse_irrep(self, label: str) -> Irrep:
        """The irrep called ``label`` (see :meth:`irrep_label`), e.g. ``O3().parse_irrep("1o")``."""
        digits = re.search(r"\d+", label)
        if self.is_finite or digits:
            for psi in self.irreps(None if self.is_finite else int(digits.group())):
                if psi.label == label:
                    return psi
        valid = ", ".join(psi.label for psi in self.irreps(None if self.is_finite else 2))
        raise ValueError(f"{self.name} has no irrep {label!r}; its irreps are {valid}"
                         f"{'' if self.is_finite else ', ... (one per frequency)'}")

    @cached_property
    def trivial_irrep(self) -> Irrep:
        return self.irreps(0)[0]

    # -- elements -------------------------------------------------------------
    def identity(self, n: int = 1, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        return torch.eye(self.d, dtype=dtype, device=device).expand(n, self.d, self.d).clone()

    @staticmethod
    def compose(a: Tensor, b: Tensor) -> Tensor:
        """The product ``a b`` (apply ``b`` first)."""
        return a @ b

    @staticmethod
    def inverse(a: Tensor) -> Tensor:
        return a.transpose(-1, -2)

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator | None = None,
               dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        """``n`` elements drawn from the Haar (uniform) measure, ``[n, d, d]``."""

    def elements(self, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        """All elements of a finite group, ``[order, d, d]``."""
        raise ValueError(f"{self.name} is continuous: it has no finite list of elements; use grid(n)")

    def grid(self, n: int, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
        """A deterministic set of ``n`` elements spread evenly over the group.

        For a finite group, ``n`` must equal its order (all elements).
        """
        if self.is_finite:
            if n != self.order:
                raise ValueError(f"{self.name}.grid: n={n}, but a grid of a finite group holds all "
                                 f"its {self.order} elements")
            return self.elements(dtype, device)
        raise NotImplementedError

    def generators(self) -> Tensor:
        """Elements generating a dense subgroup (float64); used to solve for intertwiners.

        For finite groups, all elements. For continuous groups, a few fixed
        elements at irrational angles plus seeded Haar samples.
        """
        if self.is_finite:
            return self.elements()
        return self.sample(6, generator=torch.Generator().manual_seed(1234))

    @cached_property
    def cached_generators(self) -> Tensor:
        """:meth:`generators`, computed once per group object."""
        return self.generators()

    def reflection(self) -> Tensor | None:
        """One fixed improper element ``[1, d, d]`` (``None`` if the group has none)."""
        return None

    def check_elements(self, elements: Tensor, name: str = "elements") -> Tensor:
        """Validate a batch of elements: a float tensor ``[B, d, d]``."""
        if not isinstance(elements, Tensor):
            raise TypeError(f"{self.name}: {name} must be a torch.Tensor, got {type(elements).__name__}")
        if elements.dim() != 3 or elements.shape[-2:] != (self.d, self.d):
            raise ValueError(f"{self.name}: {name} must have shape [B, {self.d}, {self.d}], "
                             f"got {list(elements.shape)}")
        if not elements.is_floating_point():
            raise TypeError(f"{self.name}: {name} must be floating point, got {elements.dtype}")
        return elements

    def contains(self, elements: Tensor, atol: float = 1e-6) -> Tensor:
        """Boolean ``[B]``: whether each matrix is an element of this group."""
        g = self.check_elements(elements)
        eye = torch.eye(self.d, dtype=g.dtype, device=g.device)
        orthogonal = ((g @ g.transpose(-1, -2) - eye).abs() <= atol).flatten(1).all(1)
        return orthogonal & self._contains_orthogonal(g, atol)

    @abstractmethod
    def _contains_orthogonal(self, g: Tensor, atol: float) -> Tensor:
        """Membership test for matrices already known to be orthogonal."""


def _concrete_subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_concrete_subclasses(sub)]
    return out


def group_from_name(name: str) -> Group:
    """The group with this name, e.g. ``"SO(3)"``, ``"O(3)"``, ``"C8"``, ``"D4@R3"``, ``"Ci"``.

    Names are case-insensitive; see ``GROUP_NAMES``. Each concrete group class
    answers for its own names (:meth:`Group.from_name`).
    """
    if not isinstance(name, str):
        raise TypeError(f"group name must be a str, got {type(name).__name__}")
    for cls in _concrete_subclasses(Group):
        group = cls.from_name(name.strip())
        if group is not None:
            return group
    raise ValueError(f"unknown group {name!r}; valid names: {', '.join(GROUP_NAMES)}")


# -- helpers shared by the concrete groups ---------------------------------------
def rotation_2d(theta: Tensor) -> Tensor:
    """``[...]`` angles -> ``[..., 2, 2]`` rotation matrices."""
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def planar_angle_and_flip(g2: Tensor) -> tuple[Tensor, Tensor]:
    """Write ``[B, 2, 2]`` orthogonal matrices as ``R(theta) F^s`` with F = diag(1, -1).

    Returns ``theta`` and ``s`` (0. or 1., same dtype as ``g2``).
    """
    theta = torch.atan2(g2[..., 1, 0], g2[..., 0, 0])
    s = (torch.linalg.det(g2) < 0).to(g2.dtype)
    return theta, s


def round_to_multiple(theta: Tensor, n: int) -> Tensor:
    """Integer ``k`` with ``theta = 2 pi k / n`` (mod n)."""
    return torch.round(theta * n / (2 * math.pi)).long() % n
