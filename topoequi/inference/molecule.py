"""A molecule to predict on (atomic numbers and coordinates), and a structure that could not be read."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

_PERIODIC_TABLE = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb "
    "Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf "
    "Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og")
SYMBOLS: tuple[str, ...] = tuple(_PERIODIC_TABLE.split())
"""Element symbols by atomic number (``SYMBOLS[z - 1]``)."""


def atomic_number(token: str) -> int:
    """``"C"``, ``"c"``, ``"CL"`` or ``"6"`` -> the atomic number; ``ValueError`` for anything else."""
    if token.isdigit() and 1 <= int(token) <= len(SYMBOLS):
        return int(token)
    symbol = token[:1].upper() + token[1:].lower()
    if symbol not in SYMBOLS:
        raise ValueError(f"unknown element {token!r}")
    return SYMBOLS.index(symbol) + 1


def formula(z) -> str:
    """Hill formula of atomic numbers ``z``: C first, then H, then the others alphabetically."""
    counts = Counter(SYMBOLS[int(a) - 1] if 1 <= int(a) <= len(SYMBOLS) else f"Z{int(a)}" for a in z)
    first = [s for s in ("C", "H") if s in counts] if "C" in counts else []
    order = first + sorted(s for s in counts if s not in first)
    return "".join(s + (str(counts[s]) if counts[s] > 1 else "") for s in order)


@dataclass(frozen=True)
class Molecule:
    """Atomic numbers ``z`` (``[N]``, int64) and coordinates ``pos`` (``[N, 3]``, Angstrom, float64)."""

    name: str
    z: np.ndarray
    pos: np.ndarray

    @classmethod
    def from_arrays(cls, name: str, z, pos) -> Molecule:
        """Build from array-likes (tensors, arrays, lists); ``ValueError`` on bad shapes."""
        z = np.asarray(z.cpu() if hasattr(z, "cpu") else z)
        pos = np.asarray(pos.cpu() if hasattr(pos, "cpu") else pos, dtype=np.float64)
        if z.ndim != 1 or not np.issubdtype(z.dtype, np.integer):
            raise ValueError(f"atomic numbers must be a 1-D integer array, got shape {z.shape} of {z.dtype}")
        if pos.shape != (len(z), 3):
            raise ValueError(f"positions must have shape [{len(z)}, 3] for {len(z)} atoms, got {list(pos.shape)}")
        return cls(name, z.astype(np.int64), pos)

    @property
    def formula(self) -> str:
        return formula(self.z)


@dataclass(frozen=True)
class Failure:
    """A structure that could not be read or featurised, with the reason (file and line where known)."""

    name: str
    error: str
    formula: str = ""
