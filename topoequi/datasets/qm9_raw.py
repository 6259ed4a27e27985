r"""Reading QM9 from the ``qm9pack`` wheel and deriving its bonds.

Bonds are not in qm9pack: they are derived from the coordinates with RDKit's
``rdDetermineBonds.DetermineBonds`` (Kim & Kim's xyz2mol, charge 0), which also
perceives aromaticity. On strained polycycles (~5% of QM9) it fails because
covalent radii also join cross-ring atoms; there spurious bonds are pruned and
bond orders assigned to the rest (see :func:`bonds_from_xyz`); ``bond_method``
records which way each molecule went.
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from topoequi.datasets.qm9_targets import CSV_COLUMNS

QM9PACK_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
"""The CSV files of the full QM9 inside the ``qm9pack`` wheel."""

ATOMIC_NUMBERS: tuple[int, ...] = (1, 6, 7, 8, 9)
"""H, C, N, O, F: the one-hot atom types, in this order."""
ELEMENTS: tuple[str, ...] = ("H", "C", "N", "O", "F")
BOND_TYPES: tuple[str, ...] = ("single", "double", "triple", "aromatic")
"""The one-hot bond types of ``edge_attr``, in this order (as in PyG)."""


def qm9pack_data_dir() -> Path:
    """The ``data/`` folder of the installed ``qm9pack`` wheel, found without importing it."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None:
        raise ImportError("QM9 source 'qm9pack' needs the qm9pack package: pip install 'topoequi[qm9]'")
    roots = list(spec.submodule_search_locations or []) or [os.path.dirname(spec.origin)]
    for root in roots:
        if all((Path(root) / "data" / f).is_file() for f in QM9PACK_FILES):
            return Path(root) / "data"
    raise FileNotFoundError(f"qm9pack is installed at {roots} but its data/ CSV files are missing")


def read_qm9pack(data_dir: str | os.PathLike | None = None, nrows: int | None = None):
    """Read qm9pack's CSV parts (and polarizability file) into one pandas frame, in QM9 order.

    ``nrows`` keeps only the first molecules (for tests and quick looks).
    """
    import pandas as pd

    data_dir = Path(data_dir) if data_dir is not None else qm9pack_data_dir()
    columns = ["Index", "SMILES", "Elements", "XYZ_Ang", *CSV_COLUMNS.values()]
    frames, left = [], nrows
    for name in QM9PACK_FILES:
        if left is not None and left <= 0:
            break
        frame = pd.read_csv(data_dir / name, usecols=columns, nrows=left)
        frames.append(frame)
        left = None if left is None else left - len(frame)
    frame = pd.concat(frames, ignore_index=True)
    if not frame["Index"].is_monotonic_increasing:
        raise ValueError("qm9pack rows are not in QM9 index order")
    return frame


def parse_elements(text: str) -> list[str]:
    """``"['C','H']"`` -> ``['C', 'H']``."""
    return [s.strip(" '\"") for s in text.strip("[] ").split(",")]


def parse_coordinates(text: str) -> np.ndarray:
    """``"[[x,y,z],...]"`` (Angstrom) -> float64 array ``[num_atoms, 3]``."""
    values = np.array(text.replace("[", " ").replace("]", " ").split(","), dtype=np.float64)
    return values.reshape(-1, 3)


MAX_VALENCE = {1: 1, 6: 4, 7: 3, 8: 2, 9: 1}
"""Neutral valences, used to prune spurious bonds in strained polycycles."""
BOND_METHODS = ("xyz2mol", "pruned", "connectivity")
"""How a molecule's bonds were found (``bond_method``): RDKit's ``DetermineBonds``;
covalent-radius connectivity with spurious bonds pruned, then ``DetermineBondOrders``;
or that pruned connectivity alone, every bond typed single."""


def bonds_from_xyz(elements: Sequence[str], pos: np.ndarray) -> dict[str, np.ndarray | int]:
    """Bonds, bond types and atom flags of a neutral molecule from its coordinates (RDKit).

    Returns ``bonds`` (``[B, 2]``, ``i < j``, sorted), ``bond_type`` (index into
    :data:`BOND_TYPES`), ``aromatic`` and ``hybridization`` (0 other, 1 sp,
    2 sp2, 3 sp3) per atom, and ``bond_method`` (index into :data:`BOND_METHODS`).

    ``DetermineBonds`` fails on strained polycycles, where covalent radii x 1.3
    also join non-bonded cross-ring atoms (a carbon gets 5 neighbours). There
    the longest bond (relative to the sum of covalent radii) of each
    over-valent atom is dropped until every atom is within
    :data:`MAX_VALENCE`, and bond orders are assigned to that connectivity.
    """
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds
    from rdkit.Chem.rdchem import BondType, HybridizationType
    from rdkit.rdBase import BlockLogs

    quiet = BlockLogs()  # noqa: F841 - RDKit stays silent while this lives
    # fixed decimals: MolFromXYZBlock rejects scientific notation
    block = f"{len(elements)}\n\n" + "".join(
        f"{e} {x:.10f} {y:.10f} {z:.10f}\n" for e, (x, y, z) in zip(elements, pos))
    mol = Chem.MolFromXYZBlock(block)
    if mol is None or mol.GetNumAtoms() != len(elements):
        raise ValueError("bonds_from_xyz: RDKit could not read the coordinates")
    method = 0
    try:
        rdDetermineBonds.DetermineBonds(mol, charge=0)
    except (ValueError, RuntimeError):
        mol = Chem.MolFromXYZBlock(block)
        rdDetermineBonds.DetermineConnectivity(mol)
        mol = _prune_overvalent(mol, np.asarray(pos))
        try:
            rdDetermineBonds.DetermineBondOrders(mol, charge=0)
            method = 1
        except (ValueError, RuntimeError):
            method = 2
            for bond in mol.GetBonds():
                bond.SetBondType(BondType.SINGLE)
            try:
                Chem.SanitizeMol(mol)
            except (ValueError, RuntimeError):
                pass  # keep the unsanitized connectivity; atom flags stay 0
    codes = {BondType.SINGLE: 0, BondType.DOUBLE: 1, BondType.TRIPLE: 2, BondType.AROMATIC: 3}
    hyb = {HybridizationType.SP: 1, HybridizationType.SP2: 2, HybridizationType.SP3: 3}
    pairs = sorted((min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()), max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()),
                    codes.get(b.GetBondType(), 0)) for b in mol.GetBonds())
    return {
        "bonds": np.array([p[:2] for p in pairs], dtype=np.int16).reshape(-1, 2),
        "bond_type": np.array([p[2] for p in pairs], dtype=np.int8),
        "aromatic": np.array([a.GetIsAromatic() for a in mol.GetAtoms()], dtype=np.int8),
        "hybridization": np.array([hyb.get(a.GetHybridization(), 0) for a in mol.GetAtoms()],
                                  dtype=np.int8),
        "bond_method": method,
    }


def _prune_overvalent(mol, pos: np.ndarray):
    """Drop, atom by atom, the relatively longest bond of atoms above :data:`MAX_VALENCE`."""
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    radius = [table.GetRcovalent(a.GetAtomicNum()) for a in mol.GetAtoms()]
    rw = Chem.RWMol(mol)
    for atom in rw.GetAtoms():
        i = atom.GetIdx()
        while atom.GetDegree() > MAX_VALENCE.get(atom.GetAtomicNum(), atom.GetDegree()):
            j = max((b.GetOtherAtomIdx(i) for b in atom.GetBonds()),
                    key=lambda j: np.linalg.norm(pos[i] - pos[j]) / (radius[i] + radius[j]))
            rw.RemoveBond(i, j)
    return rw.GetMol()
