"""Representations as first-class objects.

A :class:`Rep` is a direct sum of irreps with multiplicities, optionally
followed by an orthogonal change of basis ``Q``:
``rho(g) = Q (psi_1(g)^{+m_1} + psi_2(g)^{+m_2} + ...) Q^T``.
Inside the direct sum, the ``m`` copies of an irrep are stored one after the
other (the layout of e3nn's ``"m x l"``), so a feature of type ``rho`` is a
tensor ``[..., rho.dim]``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor

from topoequi.symmetry.group import Group, Irrep

ORTHOGONALITY_TOL = 1e-8


class Rep:
    """A representation of ``group``: ``[(irrep, multiplicity), ...]`` and a change of basis.

    Args:
        group: the group.
        irreps: irreps or ``(irrep, multiplicity)`` pairs, in feature order.
        change_of_basis: optional orthogonal ``[dim, dim]`` matrix ``Q``.

    Example::

        >>> G = SO3()
        >>> rho = Rep(G, [(G.irrep(0), 16), (G.irrep(1), 8)])
        >>> rho.dim
        40
    """

    def __init__(self, group: Group, irreps: Iterable[Irrep | tuple[Irrep, int]],
                 change_of_basis: Tensor | None = None):
        if not isinstance(group, Group):
            raise TypeError(f"Rep: group must be a topoequi Group, got {type(group).__name__}")
        pairs = []
        for item in irreps:
            psi, mult = item if isinstance(item, tuple) else (item, 1)
            if not isinstance(psi, Irrep) or psi.group != group:
                raise ValueError(f"Rep: {psi!r} is not an irrep of {group}")
            if not isinstance(mult, int) or mult < 0:
                raise ValueError(f"Rep: multiplicity of {psi} must be a non-negative int, got {mult!r}")
            if mult:
                pairs.append((psi, mult))
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

    def __mul__(self, multiplicity: int) -> Rep:
        if not isinstance(multiplicity, int) or multiplicity < 0:
            raise ValueError(f"a representation can be multiplied by a non-negative int, got {multiplicity!r}")
        out = Rep(self.group, [])
        for _ in range(multiplicity):
            out = out + self
        return out

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rep) or other.group != self.group or other.irreps != self.irreps:
            return False
        return torch.equal(self.change_of_basis_or_eye(), other.change_of_basis_or_eye())

    def __hash__(self) -> int:
        return hash((self.group, self.irreps))

    def __repr__(self) -> str:
        body = " + ".join(f"{m}x{list(psi.id)}" for psi, m in self.irreps) or "0"
        return f"Rep[{self.group.name}]({body}{', with change of basis' if self.change_of_basis is not None else ''})"

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
    from topoequi.symmetry.intertwiners import intertwiner_basis

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


def irreps_rep(group: Group, spec: Sequence[tuple[tuple, int]]) -> Rep:
    """Shorthand: ``irreps_rep(SO3(), [((0,), 16), ((1,), 8)])``."""
    return Rep(group, [(group.irrep(i), m) for i, m in spec])
