"""The packed form of QM9: every molecule's atoms, bonds and targets as flat NumPy arrays (the embedded
sample ``datasets/qm9_sample.npz`` is one), and the PyG graphs built from it."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import torch
from torch_geometric.data import Data

from topoequi.datasets.qm9_raw import (
    ATOMIC_NUMBERS,
    BOND_TYPES,
    ELEMENTS,
    bonds_from_xyz,
    parse_coordinates,
    parse_elements,
)
from topoequi.datasets.qm9_targets import convert_targets, raw_targets
from topoequi.progress import progress_bar


def pack_molecules(frame, progress: bool = True) -> dict[str, np.ndarray]:
    """Turn a qm9pack frame into the packed arrays stored by the cache and the embedded sample.

    Keys: ``idx`` (QM9 index, 1-based), ``smiles``, ``num_atoms``, ``z``,
    ``pos`` (Angstrom), ``aromatic``, ``hybridization``, ``num_bonds``,
    ``bonds`` (local ``i < j``), ``bond_type``, ``bond_method``,
    ``raw_y`` (float64, PyG's raw units) and ``y`` (float32, converted).
    """
    symbol_to_z = dict(zip(ELEMENTS, ATOMIC_NUMBERS))
    out: dict[str, list] = {k: [] for k in ("num_atoms", "z", "pos", "aromatic", "hybridization",
                                             "num_bonds", "bonds", "bond_type",
                                             "bond_method", "counts")}
    rows = zip(frame["Elements"], frame["XYZ_Ang"])
    for elements_text, xyz_text in progress_bar(rows, progress, total=len(frame), desc="QM9 molecules"):
        elements = parse_elements(elements_text)
        pos = parse_coordinates(xyz_text)
        if pos.shape[0] != len(elements):
            raise ValueError(f"pack_molecules: {len(elements)} elements but {pos.shape[0]} positions")
        z = np.array([symbol_to_z[e] for e in elements], dtype=np.int8)
        mol = bonds_from_xyz(elements, pos)
        out["num_atoms"].append(len(elements))
        out["z"].append(z)
        out["pos"].append(pos.astype(np.float32))
        out["aromatic"].append(mol["aromatic"])
        out["hybridization"].append(mol["hybridization"])
        out["num_bonds"].append(len(mol["bonds"]))
        out["bonds"].append(mol["bonds"])
        out["bond_type"].append(mol["bond_type"])
        out["bond_method"].append(mol["bond_method"])
        out["counts"].append([int((z == a).sum()) for a in ATOMIC_NUMBERS])
    counts = np.array(out.pop("counts"), dtype=np.float64).reshape(-1, len(ATOMIC_NUMBERS))
    raw = raw_targets(frame, counts)
    packed = {k: np.concatenate(v) if k in ("z", "pos", "aromatic", "hybridization", "bonds",
                                            "bond_type") else np.array(v)
              for k, v in out.items()}
    packed["num_atoms"] = packed["num_atoms"].astype(np.int32)
    packed["num_bonds"] = packed["num_bonds"].astype(np.int32)
    packed["bond_method"] = packed["bond_method"].astype(np.int8)
    packed["idx"] = frame["Index"].to_numpy(dtype=np.int32)
    packed["smiles"] = frame["SMILES"].to_numpy(dtype=str)
    packed["raw_y"] = raw
    packed["y"] = convert_targets(raw).numpy()
    return packed


PACKED_FORMAT = 1
"""Version of the packed layout; a file written with another one is refused (files without the key are 1)."""
PACKED_KEYS = ("num_atoms", "z", "pos", "aromatic", "hybridization", "num_bonds", "bonds", "bond_type",
               "bond_method", "idx", "smiles", "y")


def load_packed(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read packed arrays (``.npz``) such as the embedded sample or the full QM9 written by
    ``datasets/make_qm9_sample.py --all``; a truncated or altered file (the CRC-32 of every array is
    checked as it is read), one of another format version, or one whose arrays disagree in length is
    refused with a ``ValueError`` naming the file."""
    try:
        with np.load(path, allow_pickle=False) as f:
            packed = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"packed QM9 file '{path}' is truncated or corrupt ({exc})") from None
    version = int(packed.pop("format", 1))
    if version != PACKED_FORMAT:
        raise ValueError(f"packed QM9 file '{path}' has format {version}; this version of topoequi reads format "
                         f"{PACKED_FORMAT} (write it again with datasets/make_qm9_sample.py)")
    missing = [k for k in PACKED_KEYS if k not in packed]
    if missing:
        raise ValueError(f"packed QM9 file '{path}' lacks the arrays {missing}")
    molecules = len(packed["num_atoms"])
    sizes = {"z": int(packed["num_atoms"].sum()), "bonds": int(packed["num_bonds"].sum()), "y": molecules,
             "idx": molecules, "smiles": molecules}
    wrong = {k: (len(packed[k]), n) for k, n in sizes.items() if len(packed[k]) != n}
    if wrong:
        raise ValueError(f"packed QM9 file '{path}' is inconsistent (array: length, expected): {wrong}")
    return packed


def data_list_from_packed(packed: dict[str, np.ndarray], progress: bool = True) -> list[Data]:
    """One :class:`~torch_geometric.data.Data` per molecule, laid out as PyG's QM9.

    ``x`` holds PyG's 11 atom features: one-hot H, C, N, O, F, atomic number,
    aromatic, sp, sp2, sp3, number of bonded hydrogens. ``edge_index`` holds
    both directions of every bond, sorted by ``(source, target)``; ``edge_attr``
    one-hot :data:`BOND_TYPES`.
    """
    atom_ptr = np.concatenate([[0], np.cumsum(packed["num_atoms"])])
    bond_ptr = np.concatenate([[0], np.cumsum(packed["num_bonds"])])
    z_all = torch.from_numpy(packed["z"].astype(np.int64))
    pos_all = torch.from_numpy(packed["pos"].astype(np.float32))
    arom_all = torch.from_numpy(packed["aromatic"].astype(np.float32))
    hyb_all = torch.from_numpy(packed["hybridization"].astype(np.int64))
    bonds_all = torch.from_numpy(packed["bonds"].astype(np.int64))
    type_all = torch.from_numpy(packed["bond_type"].astype(np.int64))
    y_all = torch.from_numpy(packed["y"].astype(np.float32))
    type_of_z = torch.full((10,), -1, dtype=torch.long)
    type_of_z[list(ATOMIC_NUMBERS)] = torch.arange(len(ATOMIC_NUMBERS))
    data_list = []
    for m in progress_bar(range(len(packed["idx"])), progress, desc="QM9 graphs"):
        a0, a1, b0, b1 = atom_ptr[m], atom_ptr[m + 1], bond_ptr[m], bond_ptr[m + 1]
        n = int(a1 - a0)
        z = z_all[a0:a1]
        bonds, btype = bonds_all[b0:b1], type_all[b0:b1]
        edge_index = torch.cat([bonds.t(), bonds.t().flip(0)], dim=1)
        edge_type = torch.cat([btype, btype])
        perm = (edge_index[0] * n + edge_index[1]).argsort()
        edge_index, edge_type = edge_index[:, perm], edge_type[perm]
        is_h = (z == 1).float()
        num_hs = torch.zeros(n).index_add_(0, edge_index[1], is_h[edge_index[0]])
        hyb = hyb_all[a0:a1]
        x = torch.cat([
            torch.nn.functional.one_hot(type_of_z[z], len(ATOMIC_NUMBERS)).float(),
            torch.stack([z.float(), arom_all[a0:a1], (hyb == 1).float(), (hyb == 2).float(),
                         (hyb == 3).float(), num_hs], dim=1)], dim=1)
        idx = int(packed["idx"][m])
        data_list.append(Data(
            x=x, z=z, pos=pos_all[a0:a1], edge_index=edge_index,
            edge_attr=torch.nn.functional.one_hot(edge_type, len(BOND_TYPES)).float(),
            y=y_all[m:m + 1], idx=idx, name=f"gdb_{idx}", smiles=str(packed["smiles"][m])))
    return data_list
