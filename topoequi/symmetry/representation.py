"""Representations as first-class values, in the manner of e3nn's ``Irreps``.

A :class:`Rep` is a direct sum of irreps with multiplicities, optionally
followed by an orthogonal change of basis ``Q``:
``rho(g) = Q (psi_1(g)^{+m_1} + psi_2(g)^{+m_2} + ...) Q^T``.
Inside the direct sum, the ``m`` copies of an irrep are stored one after the
other (the layout of e3nn's ``"m x l"``), so a feature of type ``rho`` is a
tensor ``[..., rho.dim]``. Its string form lists ``multiplicity x label`` per
entry, in feature order, and parses back to the same representation:
``Rep("16x0e+8x1o")`` (O(3), as e3nn), ``Rep("SO(2)", "4x0+2x1")``,
``Dihedral(4).rep("2x0e+1x1+1x2o")``; each group's labels are listed in
:mod:`~topoequi.symmetry.planar` and :mod:`~topoequi.symmetry.spatial`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache, cached_property

import torch
from torch import Tensor

from topoequi.symmetry.group import Group, Irrep, group_from_name
from topoequi.symmetry.intertwiners import intertwiner_basis
from topoequi.symmetry.rep_parsing import MulIrrep, as_pair, parse_entries

ORTHOGONALITY_TOL = 1e-8


class Rep:
    """A representation of ``group``: irreps with multiplicities, and a change of basis.

    Args:
        group (Group or str): the group, or its name. Called with a string
            only, ``Rep("16x0e+8x1o")``, the group is O(3), as in e3nn.
        irreps (str or list): the string form (``"16x0e+8x1o"``), or entries in
            feature order: irreps, ``(multiplicity, irrep)`` or ``(irrep,
            multiplicity)``, with irreps as objects, labels or ids.
        change_of_basis (Tensor, optional): orthogonal ``[dim, dim]`` matrix ``Q``.

    ``rep.irreps`` holds the ``(irrep, multiplicity)`` pairs; iterating and
    indexing give :class:`MulIrrep` ``(mul, irrep)`` entries as e3nn does, and
    a slice is a representation.

    Example::

        >>> rho = Rep("16x0e+8x1o")
        >>> rho.dim, str(rho * 2), str(rho.repeat(2)), rho[1]
        (40, '32x0e+16x1o', '16x0e+8x1o+16x0e+8x1o', MulIrrep(mul=8, irrep=O(3)[1o]))
    """

    def __init__(self, group: Group | str, irreps: str | Iterable | None = None,
                 change_of_basis: Tensor | None = None):
        if irreps is None and isinstance(group, str):  # Rep("16x0e+8x1o"): O(3), as e3nn
            group, irreps = "O(3)", group
        group = group_from_name(group) if isinstance(group, str) else group
        if not isinstance(group, Group):
            raise TypeError(f"Rep: group must be a topoequi Group or its name, got {type(group).__name__}")
        if irreps is None:
            raise TypeError("Rep: irreps is required, e.g. Rep(group, '2x0+1x1')")
        pairs = parse_entries(group, irreps) if isinstance(irreps, str) else [as_pair(group, i) for i in irreps]
        pairs = [(psi, m) for psi, m in pairs if m]
        self.group = group
        self.irreps: tuple[tuple[Irrep, int], ...] = tuple(pairs)
        self.dim = sum(psi.dim * m for psi, m in pairs)
        if change_of_basis is not None:
            q = torch.as_tensor(change_of_basis, dtype=torch.float64)
            if q.shape != (self.dim, self.dim):
                raise ValueError(f"Rep: change_of_basis must be [{self.dim}, {self.dim}], got {list(q.shape)}")
            if (q @ q.T - torch.eye(self.dim, dtype=torch.float64)).abs().max() > ORTHOGONALITY_TOL:
                raise ValueError("Rep: change_of_basis must be orthogonal")
            change_of_basis = None if torch.equal(q, torch.eye(self.dim, dtype=torch.float64)) else q
        self.change_of_basis: Tensor | None = change_of_basis

    # -- constructors ---------------------------------------------------------
    @classmethod
    def from_string(cls, text: str, group: Group | str = "O(3)") -> Rep:
        """Parse ``"16x0e+8x1o"`` (labels of ``group``); the inverse of ``str(rep)``."""
        if not isinstance(text, str):
            raise TypeError(f"Rep.from_string: text must be a str, got {type(text).__name__}")
        return cls(group, text)

    @classmethod
    def from_irreps(cls, group: Group | str, irreps: Iterable) -> Rep:
        """Entries ``[(multiplicity, irrep), ...]``, irreps as objects, labels or ids: ``[(16, (0,)), (8, "1")]``."""
        return cls(group, list(irreps))

    @classmethod
    def from_e3nn(cls, irreps, group: Group | str = "O(3)") -> Rep:
        """e3nn ``Irreps`` (or their string) as a representation of O(3), or of SO(3) ignoring parity."""
        group = group_from_name(group) if isinstance(group, str) else group
        if group.name not in ("SO(3)", "O(3)"):
            raise ValueError(f"Rep.from_e3nn: group must be SO(3) or O(3), got {group}")
        text = irreps if isinstance(irreps, str) else str(irreps)
        if group.name == "SO(3)":
            text = re.sub(r"(\d)[eoy]", r"\1", text)
        return cls(group, text)

    @classmethod
    def cast(cls, value: Rep | str | Iterable, group: Group | str) -> Rep:
        """``value`` as a representation of ``group``: a :class:`Rep` as it is, else parsed or built."""
        group = group_from_name(group) if isinstance(group, str) else group
        if isinstance(value, Rep):
            if value.group != group:
                raise ValueError(f"Rep: expected a representation of {group}, got one of {value.group}")
            return value
        return cls(group, value)

    @classmethod
    def trivial(cls, group: Group, multiplicity: int = 1) -> Rep:
        """``multiplicity`` invariant scalars."""
        return cls(group, [(multiplicity, group.trivial_irrep)])

    @classmethod
    def standard(cls, group: Group) -> Rep:
        """The defining action on R^d, decomposed into irreps (with a change of basis)."""
        return _standard(group)

    @classmethod
    def regular(cls, group: Group, max_frequency: int | None = None) -> Rep:
        """The band-limited regular representation: each irrep psi of frequency
        <= ``max_frequency`` with multiplicity ``dim(psi) / type_dim(psi)``
        (the full regular representation of a finite group when ``None``)."""
        return cls(group, [(psi.dim // psi.type_dim, psi) for psi in group.irreps(max_frequency)])

    # -- structure ------------------------------------------------------------
    def copy_offsets(self) -> dict[Irrep, list[int]]:
        """For each irrep, the start offsets (in the irreps basis) of all its copies."""
        out: dict[Irrep, list[int]] = {}
        start = 0
        for psi, mult in self.irreps:
            for _ in range(mult):
                out.setdefault(psi, []).append(start)
                start += psi.dim
        return out

    def entries(self) -> list[tuple[Irrep, int, int]]:
        """``(irrep, start, multiplicity)`` of every entry, in feature order (irreps basis)."""
        out, start = [], 0
        for psi, mult in self.irreps:
            out.append((psi, start, mult))
            start += psi.dim * mult
        return out

    def change_of_basis_or_eye(self) -> Tensor:
        return self.change_of_basis if self.change_of_basis is not None else torch.eye(self.dim, dtype=torch.float64)

    @property
    def num_invariants(self) -> int:
        """Number of copies of the trivial irrep."""
        return len(self.copy_offsets().get(self.group.trivial_irrep, []))

    def invariant_basis(self) -> Tensor:
        """Orthonormal columns ``[dim, num_invariants]`` spanning the invariant subspace."""
        starts = self.copy_offsets().get(self.group.trivial_irrep, [])
        return self.change_of_basis_or_eye()[:, starts]

    @property
    def is_trivial(self) -> bool:
        return all(psi.is_trivial for psi, _ in self.irreps)

    # -- evaluation -----------------------------------------------------------
    def matrices(self, elements: Tensor) -> Tensor:
        """``[B, d, d]`` group elements -> ``[B, dim, dim]`` representation matrices."""
        g = self.group.check_elements(elements)
        out = g.new_zeros(g.shape[0], self.dim, self.dim)
        cache: dict[Irrep, Tensor] = {}
        start = 0
        for psi, mult in self.irreps:
            if psi not in cache:
                cache[psi] = psi.matrices(g)
            for _ in range(mult):
                out[:, start:start + psi.dim, start:start + psi.dim] = cache[psi]
                start += psi.dim
        if self.change_of_basis is not None:
            q = self.change_of_basis.to(dtype=g.dtype, device=g.device)
            out = q @ out @ q.T
        return out

    def to_irreps_basis(self, x: Tensor) -> Tensor:
        """Features ``[..., dim]`` in this basis -> coordinates in the direct sum of irreps."""
        if self.change_of_basis is None:
            return x
        return x @ self.change_of_basis.to(dtype=x.dtype, device=x.device)

    def from_irreps_basis(self, x: Tensor) -> Tensor:
        """Inverse of :meth:`to_irreps_basis`."""
        if self.change_of_basis is None:
            return x
        return x @ self.change_of_basis.to(dtype=x.dtype, device=x.device).T

    def check_features(self, x: Tensor, name: str = "x") -> Tensor:
        """Validate features ``[..., dim]``: a finite floating tensor of the right width."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"{name} must have last dimension {self.dim} (representation {self}), "
                             f"got shape {list(x.shape)}")
        return x

    # -- algebra --------------------------------------------------------------
    def __add__(self, other: Rep) -> Rep:
        if not isinstance(other, Rep) or other.group != self.group:
            raise ValueError(f"cannot add {other!r} to a representation of {self.group}")
        q = None
        if self.change_of_basis is not None or other.change_of_basis is not None:
            q = torch.block_diag(self.change_of_basis_or_eye(), other.change_of_basis_or_eye())
        return Rep(self.group, self.irreps + other.irreps, q)

    def __mul__(self, factor: int) -> Rep:
        """Every multiplicity times ``factor``, each irrep's copies together: ``Rep("16x0e+8x1o") * 2`` is
        ``32x0e+16x1o`` (features in that layout; with a change of basis, ``factor`` blocks of this
        representation's features). :meth:`repeat` lays whole copies one after the other instead."""
        if not isinstance(factor, int) or factor < 0:
            raise ValueError(f"a representation can be multiplied by a non-negative int, got {factor!r}")
        merged = [(psi, m * factor) for psi, m in self.irreps]
        if self.change_of_basis is None or factor == 0:
            return Rep(self.group, merged)
        return Rep(self.group, merged, self.repeat(factor).change_of_basis_or_eye() @ self._copies_to_merged(factor))

    __rmul__ = __mul__

    def repeat(self, copies: int) -> Rep:
        """``copies`` copies of the whole representation, one after the other (e3nn's ``Irreps * n`` and
        escnn's ``FieldType([rho] * n)``): ``Rep("16x0e+8x1o").repeat(2)`` is ``16x0e+8x1o+16x0e+8x1o``."""
        if not isinstance(copies, int) or copies < 0:
            raise ValueError(f"Rep.repeat: copies must be a non-negative int, got {copies!r}")
        q = None if self.change_of_basis is None or copies == 0 else torch.block_diag(*[self.change_of_basis] * copies)
        return Rep(self.group, self.irreps * copies, q)

    def _copies_to_merged(self, factor: int) -> Tensor:
        """The permutation ``P`` with ``x_repeated = P x_merged`` between the irreps bases of
        ``self.repeat(factor)`` and ``self * factor``."""
        p = torch.zeros(self.dim * factor, self.dim * factor, dtype=torch.float64)
        for psi, start, m in self.entries():
            block = psi.dim * m
            for c in range(factor):
                rows = torch.arange(c * self.dim + start, c * self.dim + start + block)
                p[rows, torch.arange(factor * start + c * block, factor * start + (c + 1) * block)] = 1.0
        return p

    def simplify(self) -> Rep:
        """Neighbouring entries of the same irrep merged (same layout): ``1x0e+1x0e+1x1o`` -> ``2x0e+1x1o``."""
        merged: list[list] = []
        for psi, m in self.irreps:
            if merged and merged[-1][0] == psi:
                merged[-1][1] += m
            else:
                merged.append([psi, m])
        return Rep(self.group, [tuple(p) for p in merged], self.change_of_basis)

    # -- sequence of (mul, irrep) entries, as e3nn ----------------------------
    def __iter__(self) -> Iterator[MulIrrep]:
        return (MulIrrep(m, psi) for psi, m in self.irreps)

    def __len__(self) -> int:
        return len(self.irreps)

    def __getitem__(self, index: int | slice) -> MulIrrep | Rep:
        if isinstance(index, slice):
            if self.change_of_basis is not None:
                raise ValueError(f"Rep: cannot slice {self}: its change of basis mixes the entries")
            return Rep(self.group, self.irreps[index])
        psi, m = self.irreps[index]
        return MulIrrep(m, psi)

    def __contains__(self, irrep: Irrep) -> bool:
        return any(psi == irrep for psi, _ in self.irreps)

    def slices(self) -> list[slice]:
        """The feature slice of each entry (in the irreps basis), in order."""
        return [slice(start, start + psi.dim * m) for psi, start, m in self.entries()]

    def randn(self, *size: int, generator: torch.Generator | None = None, dtype: torch.dtype | None = None,
              device: torch.device | str | None = None) -> Tensor:
        """Standard normal features ``[*size, dim]`` (e3nn's "component" normalization)."""
        return torch.randn(*size, self.dim, generator=generator, dtype=dtype, device=device)

    # -- comparison and printing ----------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rep) or other.group != self.group or other.irreps != self.irreps:
            return False
        return torch.equal(self.change_of_basis_or_eye(), other.change_of_basis_or_eye())

    def __hash__(self) -> int:
        return hash((self.group, self.irreps))

    def __str__(self) -> str:
        text = "+".join(str(entry) for entry in self)
        return f"{text} (with change of basis)" if self.change_of_basis is not None else text

    def __repr__(self) -> str:
        text = "+".join(str(entry) for entry in self)
        q = "" if self.change_of_basis is None else f", change_of_basis=<{self.dim}x{self.dim}>"
        return f"Rep({self.group.name!r}, {text!r}{q})"

    def restrict(self, subgroup: Group) -> Rep:
        """This representation seen as one of a subgroup, decomposed into its irreps."""
        if subgroup.d != self.group.d:
            raise ValueError(f"restrict: {subgroup} acts on R^{subgroup.d}, {self.group} on R^{self.group.d}")
        inside = self.group.contains(subgroup.generators())
        if not bool(inside.all()):
            raise ValueError(f"restrict: {subgroup} is not a subgroup of {self.group}")
        return decompose(subgroup, self.matrices, self.dim)


def decompose(group: Group, rho: Callable[[Tensor], Tensor], dim: int, max_frequency: int = 32) -> Rep:
    """Decompose the representation ``rho`` (a function of ``[B, d, d]`` elements) into irreps.

    Returns a :class:`Rep` whose matrices equal ``rho``'s: for each irrep psi,
    a basis of the intertwiners psi -> rho is made into isometric embeddings
    with orthogonal ranges; these are the columns of the change of basis.
    """
    columns: list[Tensor] = []
    pairs: list[tuple[Irrep, int]] = []
    found = 0
    candidates = group.irreps(None if group.is_finite else max_frequency)
    for psi in candidates:
        embeddings: list[Tensor] = []
        for e in intertwiner_basis(rho, psi.matrices, group):
            for f in embeddings:
                e = e - f @ (f.T @ e)
            norm = e.norm() / psi.dim**0.5
            if norm > 1e-6:
                embeddings.append(e / norm)
        if embeddings:
            pairs.append((psi, len(embeddings)))
            columns += embeddings
            found += len(embeddings) * psi.dim
        if found == dim:
            break
    if found != dim:
        raise ValueError(f"decompose: found {found} of {dim} dimensions in irreps of {group} up to frequency "
                         f"{max_frequency}; is the map a representation of {group}?")
    plain = Rep(group, pairs)
    gens = group.generators()
    if (plain.matrices(gens) - rho(gens).to(torch.float64)).abs().max() < 1e-12:
        return plain  # already block diagonal in this order: no change of basis needed
    return Rep(group, pairs, torch.cat(columns, dim=1))


def tensor_product(rep1: Rep, rep2: Rep) -> Rep:
    """The tensor product ``rep1 (x) rep2`` (features ``kron(x1, x2)``) decomposed into irreps.

    Its change of basis holds the Clebsch-Gordan coefficients.
    """
    if rep1.group != rep2.group:
        raise ValueError("tensor_product: representations of different groups")

    def kron(g: Tensor) -> Tensor:
        a, b = rep1.matrices(g), rep2.matrices(g)
        return torch.einsum("bij,bkl->bikjl", a, b).reshape(g.shape[0], rep1.dim * rep2.dim, -1)

    return decompose(rep1.group, kron, rep1.dim * rep2.dim)


@cache
def _standard(group: Group) -> Rep:
    return decompose(group, lambda g: g, group.d)


class RepresentationFactories:
    """Shorthands every concrete group carries: ``G.rep("2x0+1x1")``, ``G.trivial_rep(4)``,
    ``G.standard_rep``, ``G.regular_rep(L)`` (see :class:`Rep`'s constructors)."""

    def rep(self, irreps: str | Iterable) -> Rep:
        """A representation of this group from its string form or entries: ``G.rep("8x1")``."""
        return Rep(self, irreps)

    def trivial_rep(self, multiplicity: int = 1) -> Rep:
        return Rep.trivial(self, multiplicity)

    @cached_property
    def standard_rep(self) -> Rep:
        return Rep.standard(self)

    def regular_rep(self, max_frequency: int | None = None) -> Rep:
        return Rep.regular(self, max_frequency)
