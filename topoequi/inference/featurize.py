"""Molecules -> PyG graphs featurised exactly as the QM9 training data.

Training molecules (:class:`topoequi.datasets.QM9`) carry ``z``, ``pos`` and
bonds derived from the coordinates with RDKit (:func:`~topoequi.datasets.qm9_raw.bonds_from_xyz`);
of these, the SchNet, DimeNet++ and analytic steerable models read ``z`` and
``pos`` only, the implicit model also the bonds (``edge_index``, one-hot
``edge_attr``). New molecules go through the same functions: the bonds of a
file's coordinates are the ones the same molecule had in training.

Coordinates of new molecules are centred at their centroid in float64 before
the model casts them to its precision: the models are translation invariant,
and centred coordinates lose less to float32 rounding (a molecule shifted by
5 A moved float32 predictions by up to 1.1e-6 eV uncentred, 2e-7 centred).
PyG ``Data`` objects are used as given, bit for bit as in training.
"""
from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from topoequi.datasets.qm9_raw import ATOMIC_NUMBERS, BOND_TYPES, ELEMENTS
from topoequi.inference.molecule import SYMBOLS, Molecule

MIN_DISTANCE = 0.5
"""Atoms closer than this (Angstrom) overlap; QM9's shortest bond, O-H, is about 0.96."""
BOND_HINT = "deriving bonds needs RDKit: pip install 'topoequi[qm9]'"


def check_atoms(z: np.ndarray, pos: np.ndarray) -> None:
    """Refuse what a QM9 model never saw: other elements, one atom, overlapping or non-finite atoms."""
    unknown = sorted({int(a) for a in z} - set(ATOMIC_NUMBERS))
    if unknown:
        names = ", ".join(SYMBOLS[a - 1] if 1 <= a <= len(SYMBOLS) else f"Z={a}" for a in unknown)
        raise ValueError(f"element(s) {names} not in the training set ({', '.join(ELEMENTS)})")
    if len(z) < 2:
        raise ValueError(f"a molecule needs at least 2 atoms, got {len(z)}")
    if not np.isfinite(pos).all():
        raise ValueError("coordinates contain NaN or infinity")
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.diag(np.full(len(z), np.inf))
    i, j = np.unravel_index(np.argmin(dist), dist.shape)
    if dist[i, j] < MIN_DISTANCE:
        raise ValueError(f"atoms {min(i, j) + 1} and {max(i, j) + 1} overlap ({dist[i, j]:.3f} A apart, "
                         f"less than {MIN_DISTANCE} A)")


def molecule_to_data(mol: Molecule, bonds: bool) -> Data:
    """``Data(z, pos)`` (``pos`` float64, centred), plus the training bonds when ``bonds``."""
    check_atoms(mol.z, mol.pos)
    centred = mol.pos - mol.pos.mean(0)
    z, pos = torch.from_numpy(mol.z), torch.from_numpy(centred)
    if not bonds:
        return Data(z=z, pos=pos)
    from topoequi.typing import WITH_RDKIT

    if not WITH_RDKIT:
        raise ImportError(f"this model reads bonds: {BOND_HINT}")
    from topoequi.datasets.qm9_packed import data_list_from_packed
    from topoequi.datasets.qm9_raw import bonds_from_xyz

    found = bonds_from_xyz([SYMBOLS[a - 1] for a in mol.z], centred)
    packed = {"idx": np.zeros(1, np.int32), "smiles": np.array([""]), "num_atoms": np.array([len(z)]),
              "z": mol.z, "pos": centred, "aromatic": found["aromatic"],
              "hybridization": found["hybridization"], "num_bonds": np.array([len(found["bonds"])]),
              "bonds": found["bonds"], "bond_type": found["bond_type"],
              "y": np.zeros((1, 1), np.float32)}
    data = data_list_from_packed(packed, progress=False)[0]
    return Data(z=z, pos=pos, edge_index=data.edge_index, edge_attr=data.edge_attr)


def model_input(data: Data, bonds: bool) -> Data:
    """The part of a user's ``Data`` a model reads; bonds derived from ``pos`` when missing."""
    for key in ("z", "pos"):
        if getattr(data, key, None) is None:
            raise ValueError(f"the graph has no '{key}'")
    has_bonds = getattr(data, "edge_attr", None) is not None and getattr(data, "edge_index", None) is not None
    if bonds and not has_bonds:
        return molecule_to_data(Molecule.from_arrays("", data.z, data.pos), bonds=True)
    check_atoms(data.z.cpu().numpy(), data.pos.detach().cpu().double().numpy())
    if not bonds:
        return Data(z=data.z.long(), pos=data.pos)
    if data.edge_attr.shape[-1] != len(BOND_TYPES):
        raise ValueError(f"edge_attr must one-hot the {len(BOND_TYPES)} bond types {BOND_TYPES}, "
                         f"got {data.edge_attr.shape[-1]} columns")
    return Data(z=data.z.long(), pos=data.pos, edge_index=data.edge_index, edge_attr=data.edge_attr)
