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
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

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


ATOMREF_HARTREE: dict[str, tuple[float, ...]] = {
    # free-atom energies, B3LYP/6-31G(2df,p), order H, C, N, O, F (QM9 atomref table)
    "U0": (-0.500273, -37.846772, -54.583861, -75.064579, -99.718730),
    "U": (-0.498857, -37.845355, -54.582445, -75.063163, -99.717314),
    "H": (-0.497912, -37.844411, -54.581501, -75.062219, -99.716370),
    "G": (-0.510927, -37.861317, -54.598897, -75.079532, -99.733544),
}

CSV_COLUMNS = {  # target -> qm9pack column, for the targets read directly
    "mu": "Dipole_debye", "alpha": "Polarizability_bohr3", "homo": "HOMO_au", "lumo": "LUMO_au",
    "gap": "HOMO_LUMO_gap_au", "r2": "R2_bohr2", "zpve": "ZPVE_au", "U0": "InternalEnergy_0K_au",
    "U": "InternalEnergy_298K_au", "H": "Enthalphy_298K_au", "G": "GibbsFreeEnergy_298K_au",
    "cv": "Heatcapacity_Cv_cal_mol_K", "A": "RotA_GHz", "B": "RotB_GHz", "C": "RotC_GHz",
}


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


def raw_targets(frame, counts: np.ndarray) -> np.ndarray:
    """float64 ``[M, 19]`` in PyG's raw units (Hartree, kcal/mol for atomization energies, ...).

    ``counts[m]`` is the number of H, C, N, O, F atoms of molecule ``m`` (``[M, 5]``).
    """
    raw = np.zeros((len(frame), len(TARGETS)), dtype=np.float64)
    for name, column in CSV_COLUMNS.items():
        raw[:, TARGETS.index(name)] = frame[column].to_numpy(dtype=np.float64)
    for name, ref in ATOMREF_HARTREE.items():
        atomization = raw[:, TARGETS.index(name)] - counts @ np.asarray(ref, dtype=np.float64)
        raw[:, TARGETS.index(f"{name}_atom")] = atomization * HAR2KCALMOL
    return raw


def convert_targets(raw: np.ndarray) -> Tensor:
    """PyG's conversion: ``float32(raw) * CONVERSION`` -> ``[M, 19]`` float32."""
    return torch.tensor(raw, dtype=torch.float) * CONVERSION.view(1, -1)
