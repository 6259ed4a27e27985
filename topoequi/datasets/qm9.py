r"""QM9 built offline, from the ``qm9pack`` wheel or from the sample embedded in the repository.

Targets follow PyG's :class:`torch_geometric.datasets.QM9` exactly: the same 19
columns in the same order and units, converted with the same constants in the
same float32 arithmetic (``y = float32(raw) * conversion``):

+-----+-----------+------------------------------------+------------------+------------------------------+
| #   | name      | property                           | unit             | from qm9pack column          |
+=====+===========+====================================+==================+==============================+
| 0   | mu        | dipole moment                      | D                | Dipole_debye                 |
| 1   | alpha     | isotropic polarizability           | a0^3             | Polarizability_bohr3         |
| 2   | homo      | HOMO energy                        | eV               | HOMO_au x HAR2EV             |
| 3   | lumo      | LUMO energy                        | eV               | LUMO_au x HAR2EV             |
| 4   | gap       | HOMO-LUMO gap                      | eV               | HOMO_LUMO_gap_au x HAR2EV    |
| 5   | r2        | electronic spatial extent          | a0^2             | R2_bohr2                     |
| 6   | zpve      | zero point vibrational energy      | eV               | ZPVE_au x HAR2EV             |
| 7   | U0        | internal energy at 0 K             | eV               | InternalEnergy_0K_au x HAR2EV|
| 8   | U         | internal energy at 298.15 K        | eV               | InternalEnergy_298K_au x ... |
| 9   | H         | enthalpy at 298.15 K               | eV               | Enthalphy_298K_au x HAR2EV   |
| 10  | G         | free energy at 298.15 K            | eV               | GibbsFreeEnergy_298K_au x ...|
| 11  | cv        | heat capacity at 298.15 K          | cal/(mol K)      | Heatcapacity_Cv_cal_mol_K    |
| 12  | U0_atom   | atomization energy at 0 K          | eV               | see below                    |
| 13  | U_atom    | atomization energy at 298.15 K     | eV               | see below                    |
| 14  | H_atom    | atomization enthalpy at 298.15 K   | eV               | see below                    |
| 15  | G_atom    | atomization free energy at 298.15 K| eV               | see below                    |
| 16  | A         | rotational constant                | GHz              | RotA_GHz                     |
| 17  | B         | rotational constant                | GHz              | RotB_GHz                     |
| 18  | C         | rotational constant                | GHz              | RotC_GHz                     |
+-----+-----------+------------------------------------+------------------+------------------------------+

PyG reads the atomization energies in kcal/mol from MoleculeNet's
``gdb9.sdf.csv``, where they were computed as :math:`E - \sum_a E_a` (the
B3LYP/6-31G(2df,p) free-atom energies of the QM9 ``atomref`` table, in Hartree)
times 627.509 kcal/mol per Hartree, and converts them with ``KCALMOL2EV``. We
recompute them the same way from the molecular energies (``HAR2KCALMOL`` then
``KCALMOL2EV``), which reproduces MoleculeNet's CSV (e.g. methane
:math:`U_0^{\textrm{ATOM}}` = -395.999594594 kcal/mol).

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
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from topoequi.datasets.local import LocalDataset, file_sha256  # noqa: F401 - file_sha256 for datasets/make_qm9_sample.py
from topoequi.files import cache_home
from topoequi.progress import progress_bar

HAR2EV = 27.211386246
"""Hartree to eV, as in PyG."""
KCALMOL2EV = 0.04336414
"""kcal/mol to eV, as in PyG."""
HAR2KCALMOL = 627.509
"""Hartree to kcal/mol, as MoleculeNet used for the atomization energies PyG reads."""

TARGETS: tuple[str, ...] = (
    "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G", "cv",
    "U0_atom", "U_atom", "H_atom", "G_atom", "A", "B", "C")
"""The 19 targets, in PyG's order."""
UNITS: tuple[str, ...] = (
    "D", "a0^3", "eV", "eV", "eV", "a0^2", "eV", "eV", "eV", "eV", "eV", "cal/(mol K)",
    "eV", "eV", "eV", "eV", "GHz", "GHz", "GHz")
"""The unit of each target (after conversion)."""

CONVERSION = torch.tensor([
    1., 1., HAR2EV, HAR2EV, HAR2EV, 1., HAR2EV, HAR2EV, HAR2EV, HAR2EV, HAR2EV,
    1., KCALMOL2EV, KCALMOL2EV, KCALMOL2EV, KCALMOL2EV, 1., 1., 1.])
"""Per-target factor from the raw units (Hartree, kcal/mol, ...) to the units above (float32)."""

ATOMIC_NUMBERS: tuple[int, ...] = (1, 6, 7, 8, 9)
"""H, C, N, O, F: the one-hot atom types, in this order."""
ELEMENTS: tuple[str, ...] = ("H", "C", "N", "O", "F")
BOND_TYPES: tuple[str, ...] = ("single", "double", "triple", "aromatic")
"""The one-hot bond types of ``edge_attr``, in this order (as in PyG)."""

ATOMREF_HARTREE: dict[str, tuple[float, ...]] = {
    # free-atom energies, B3LYP/6-31G(2df,p), order H, C, N, O, F (QM9 atomref table)
    "U0": (-0.500273, -37.846772, -54.583861, -75.064579, -99.718730),
    "U": (-0.498857, -37.845355, -54.582445, -75.063163, -99.717314),
    "H": (-0.497912, -37.844411, -54.581501, -75.062219, -99.716370),
    "G": (-0.510927, -37.861317, -54.598897, -75.079532, -99.733544),
}

_CSV_COLUMNS = {  # target -> qm9pack column, for the targets read directly
    "mu": "Dipole_debye", "alpha": "Polarizability_bohr3", "homo": "HOMO_au", "lumo": "LUMO_au",
    "gap": "HOMO_LUMO_gap_au", "r2": "R2_bohr2", "zpve": "ZPVE_au", "U0": "InternalEnergy_0K_au",
    "U": "InternalEnergy_298K_au", "H": "Enthalphy_298K_au", "G": "GibbsFreeEnergy_298K_au",
    "cv": "Heatcapacity_Cv_cal_mol_K", "A": "RotA_GHz", "B": "RotB_GHz", "C": "RotC_GHz",
}
QM9PACK_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
NUM_MOLECULES = 130_831
"""Molecules in the full QM9 (133,885 minus the 3,054 that failed the consistency check)."""

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "datasets" / "qm9_sample.npz"
"""The embedded sample (see ``datasets/README.md``)."""


def target_index(target: int | str) -> int:
    """The column of ``target`` (a name from :data:`TARGETS` or an index 0..18) in ``y``."""
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target must be a name or an int, got {type(target).__name__}")
    if isinstance(target, int):
        if not 0 <= target < len(TARGETS):
            raise ValueError(f"target index must be in 0..{len(TARGETS) - 1}, got {target}")
        return target
    if target not in TARGETS:
        raise ValueError(f"unknown QM9 target {target!r}; valid targets: {', '.join(TARGETS)}")
    return TARGETS.index(target)


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
    columns = ["Index", "SMILES", "Elements", "XYZ_Ang", *_CSV_COLUMNS.values()]
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


def raw_targets(frame, counts: np.ndarray) -> np.ndarray:
    """float64 ``[M, 19]`` in PyG's raw units (Hartree, kcal/mol for atomization energies, ...).

    ``counts[m]`` is the number of H, C, N, O, F atoms of molecule ``m`` (``[M, 5]``).
    """
    raw = np.zeros((len(frame), len(TARGETS)), dtype=np.float64)
    for name, column in _CSV_COLUMNS.items():
        raw[:, TARGETS.index(name)] = frame[column].to_numpy(dtype=np.float64)
    for name, ref in ATOMREF_HARTREE.items():
        atomization = raw[:, TARGETS.index(name)] - counts @ np.asarray(ref, dtype=np.float64)
        raw[:, TARGETS.index(f"{name}_atom")] = atomization * HAR2KCALMOL
    return raw


def convert_targets(raw: np.ndarray) -> Tensor:
    """PyG's conversion: ``float32(raw) * CONVERSION`` -> ``[M, 19]`` float32."""
    return torch.tensor(raw, dtype=torch.float) * CONVERSION.view(1, -1)


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


def load_packed(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read packed arrays (``.npz``) such as the embedded sample."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


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


class AddRadiusGraph:
    """Store the radius graph of ``pos`` as ``radius_edge_index`` (bonds stay in ``edge_index``).

    Args:
        r (float): cutoff in Angstrom.
        max_num_neighbors (int, optional): neighbours kept per atom. (default: ``32``)
    """

    def __init__(self, r: float, max_num_neighbors: int = 32) -> None:
        if not r > 0:
            raise ValueError(f"AddRadiusGraph: r must be a positive cutoff in Angstrom, got {r}")
        self.r, self.max_num_neighbors = float(r), int(max_num_neighbors)

    def __call__(self, data: Data) -> Data:
        from topoequi.graph import radius_graph

        data.radius_edge_index = radius_graph(data.pos, self.r, max_num_neighbors=self.max_num_neighbors)
        return data

    def __repr__(self) -> str:
        return f"AddRadiusGraph(r={self.r}, max_num_neighbors={self.max_num_neighbors})"


class QM9(LocalDataset):
    r"""QM9 (`Ramakrishnan et al., 2014 <https://doi.org/10.1038/sdata.2014.22>`_) built
    offline, with PyG's target layout (see the module docstring for the mapping).

    Each molecule has ``z``, ``pos`` (Angstrom), ``x`` (11 atom features, the
    first 5 one-hot H, C, N, O, F), bonds derived from the coordinates in
    ``edge_index`` / ``edge_attr`` (one-hot single, double, triple, aromatic),
    ``y`` (``[1, 19]``), ``idx`` (QM9 index), ``name`` and ``smiles``.

    Args:
        root (str, optional): cache folder. (default: ``$TOPOEQUI_HOME/qm9``,
            ``~/.cache/topoequi/qm9``)
        source (str, optional): ``"qm9pack"`` (the full 130,831 molecules, needs
            ``pip install 'topoequi[qm9]'``), ``"sample"`` (the 5,000 molecules
            embedded in the repository) or ``"auto"`` (qm9pack when installed
            with pandas and RDKit, else the sample). (default: ``"auto"``)
        subset (int or slice, optional): keep the first ``subset`` molecules,
            or those selected by the slice. (default: ``None``, all)
        radius (float, optional): also store the radius graph within ``radius``
            Angstrom as ``radius_edge_index``. (default: ``None``)
        max_num_neighbors (int, optional): neighbour cap of the radius graph.
            (default: ``32``)
        transform, pre_transform, pre_filter, force_reload: as in
            :class:`~torch_geometric.data.InMemoryDataset`.

    The processed cache (with PyG's ``pre_transform.pt`` / ``pre_filter.pt``) is
    verified against the SHA-256 checksums written next to it; a corrupt or
    truncated cache is rebuilt with a warning, never used
    (:class:`~topoequi.datasets.local.LocalDataset`).
    """

    SOURCES = ("auto", "qm9pack", "sample")
    VERSION = 2  # 2: the checksums also cover PyG's pre_transform.pt / pre_filter.pt

    def __init__(self, root: str | None = None, source: str = "auto",
                 subset: int | slice | None = None, radius: float | None = None,
                 max_num_neighbors: int = 32, transform: Callable | None = None,
                 pre_transform: Callable | None = None, pre_filter: Callable | None = None,
                 force_reload: bool = False, progress: bool = True) -> None:
        if source not in self.SOURCES:
            raise ValueError(f"QM9: source must be one of {self.SOURCES}, got {source!r}")
        if source == "auto":
            from topoequi.typing import WITH_PANDAS, WITH_QM9PACK, WITH_RDKIT

            source = "qm9pack" if (WITH_QM9PACK and WITH_PANDAS and WITH_RDKIT) else "sample"
        if source == "qm9pack":
            qm9pack_data_dir()  # fail early, with the install hint
        self.source = source
        self.progress = progress
        if root is None:
            root = str(cache_home() / "qm9")
        if radius is not None:
            radius_transform = AddRadiusGraph(radius, max_num_neighbors)
            transform = radius_transform if transform is None else _Chain(radius_transform, transform)
        super().__init__(root, transform, pre_transform, pre_filter, force_reload=force_reload)
        self.load(self.processed_paths[0])
        if subset is not None:
            self._indices = self._subset_indices(subset)

    def _subset_indices(self, subset: int | slice) -> list[int]:
        n = len(self._data.y)
        if isinstance(subset, slice):
            return list(range(n))[subset]
        if isinstance(subset, bool) or not isinstance(subset, int):
            raise TypeError(f"QM9: subset must be an int or a slice, got {type(subset).__name__}")
        if not 0 < subset <= n:
            raise ValueError(f"QM9: subset must be in 1..{n} for source {self.source!r}, got {subset}")
        return list(range(subset))

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        return [f"qm9_{self.source}_v{self.VERSION}.pt"]

    def process(self) -> None:
        if self.source == "qm9pack":
            packed = pack_molecules(read_qm9pack(), progress=self.progress)
        else:
            if not SAMPLE_PATH.is_file():
                raise FileNotFoundError(f"QM9: the embedded sample {SAMPLE_PATH} is missing")
            packed = load_packed(SAMPLE_PATH)
        data_list = data_list_from_packed(packed, progress=self.progress)
        if self.pre_filter is not None:
            data_list = [d for d in data_list if self.pre_filter(d)]
        if self.pre_transform is not None:
            data_list = [self.pre_transform(d) for d in data_list]
        self.save(data_list, self.processed_paths[0])

    def target(self, target: int | str) -> Tensor:
        """Values of one target over this dataset (``[len(self)]``, float32)."""
        return self._data.y[torch.as_tensor(self.indices(), dtype=torch.long), target_index(target)]

    def split(self, kind: str = "standard", seed: int = 0) -> dict[str, Tensor]:
        """Train / valid / test positions into this dataset (see :func:`qm9_split`)."""
        return qm9_split(len(self), kind=kind, seed=seed)


class _Chain:
    """Apply two transforms in turn."""

    def __init__(self, first: Callable, second: Callable) -> None:
        self.first, self.second = first, second

    def __call__(self, data: Data) -> Data:
        return self.second(self.first(data))

    def __repr__(self) -> str:
        return f"{self.first!r} -> {self.second!r}"


SPLITS = {
    # kind: (train, valid) sizes on the full 130,831 molecules; test is the rest
    "standard": (110_000, 10_000),
    "paper": (100_000, NUM_MOLECULES - 100_000 - 13_083),
}


def qm9_split(num_molecules: int, kind: str = "standard", seed: int = 0) -> dict[str, Tensor]:
    """Random train / valid / test split of ``num_molecules`` molecules.

    ``"standard"``: 110,000 / 10,000 / 10,831 (the rest) on the full set, from
    ``numpy.random.RandomState(seed).permutation``. ``"paper"``: 100,000 train,
    17,748 valid, 13,083 test (Cormorant's recipe, used by EGNN and the
    implicit-kernel paper: the permutation with seed 0, then train, valid,
    test in that order). On fewer molecules (the sample, a subset) the sizes
    are scaled in proportion, rounding down, the test set taking the rest.
    """
    if kind not in SPLITS:
        raise ValueError(f"qm9_split: kind must be one of {sorted(SPLITS)}, got {kind!r}")
    if num_molecules < 3:
        raise ValueError(f"qm9_split: need at least 3 molecules, got {num_molecules}")
    n_train, n_valid = (n * num_molecules // NUM_MOLECULES for n in SPLITS[kind])
    n_train, n_valid = max(n_train, 1), max(n_valid, 1)
    perm = torch.from_numpy(np.random.RandomState(seed).permutation(num_molecules))
    return {"train": perm[:n_train], "valid": perm[n_train:n_train + n_valid],
            "test": perm[n_train + n_valid:]}
