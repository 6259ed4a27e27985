"""Reading representations: entries ``(multiplicity, irrep)`` and the string form ``"16x0e+8x1o"``.

An irrep is named by the object itself, its label in the group (``"1o"``,
see :meth:`~topoequi.symmetry.group.Group.irrep_label`) or its id tuple.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from topoequi.symmetry.group import Group, Irrep

IrrepLike = Irrep | str | tuple


class MulIrrep(NamedTuple):
    """One entry of a representation: ``mul`` copies of ``irrep`` (e3nn's order)."""

    mul: int
    irrep: Irrep

    def __str__(self) -> str:
        return f"{self.mul}x{self.irrep.label}"


def as_irrep(group: Group, value: IrrepLike) -> Irrep:
    """An irrep of ``group`` given as itself, its label or its id."""
    if isinstance(value, Irrep):
        if value.group != group:
            raise ValueError(f"Rep: {value!r} is not an irrep of {group}")
        return value
    return group.parse_irrep(value) if isinstance(value, str) else group.irrep(value)


def as_pair(group: Group, item) -> tuple[Irrep, int]:
    """An entry given as ``irrep``, ``(mul, irrep)`` or ``(Irrep, mul)``; a tuple of ints alone is an id."""
    mul, psi = 1, item
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Irrep):
        psi, mul = item
    elif isinstance(item, tuple) and len(item) == 2 and not all(isinstance(i, int) for i in item):
        mul, psi = item
    psi = as_irrep(group, psi)
    if not isinstance(mul, int) or mul < 0:
        raise ValueError(f"Rep: multiplicity of {psi} must be a non-negative int, got {mul!r}")
    return psi, mul


def parse_entries(group: Group, text: str) -> list[tuple[Irrep, int]]:
    """``"16x0e+8x1o"`` -> ``[(psi_0e, 16), (psi_1o, 8)]``; ``""`` is the zero representation."""
    compact = re.sub(r"\s+", "", text)
    pairs = []
    for term in compact.split("+") if compact else []:
        mul, label = re.fullmatch(r"(?:(\d+)x)?(.*)", term).groups()
        try:
            pairs.append((group.parse_irrep(label), int(mul or 1)))
        except ValueError as err:
            raise ValueError(f"Rep: cannot read {text!r} as a representation of {group.name}: {err}") from None
    return pairs
