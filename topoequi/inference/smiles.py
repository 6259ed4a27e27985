"""3D molecules from SMILES strings: RDKit's ETKDG embedding, then an MMFF94 optimisation, seeded.

Coordinates from a force field are not QM9's B3LYP/6-31G(2df,p) geometries:
predictions on them carry that difference on top of the model's error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from topoequi.inference.molecule import Molecule

INSTALL_HINT = "SMILES input needs RDKit: pip install 'topoequi[qm9]'"


@dataclass(frozen=True)
class SmilesString:
    """A SMILES string waiting for its conformer (embedded only when predicted, batch by batch)."""

    smiles: str
    name: str

    def to_molecule(self, seed: int = 0) -> Molecule:
        return molecule_from_smiles(self.smiles, self.name, seed)


def molecule_from_smiles(smiles: str, name: str | None = None, seed: int = 0,
                         max_iters: int = 2000) -> Molecule:
    """Hydrogens added, ETKDGv3 coordinates with ``randomSeed=seed``, then MMFF94 relaxed.

    Raises ``ImportError`` without RDKit and ``ValueError`` when RDKit cannot
    parse, embed or parametrise the molecule.
    """
    from topoequi.typing import WITH_RDKIT

    if not WITH_RDKIT:
        raise ImportError(INSTALL_HINT)
    from rdkit import Chem
    from rdkit.Chem import AllChem
    from rdkit.rdBase import BlockLogs

    quiet = BlockLogs()  # noqa: F841 - RDKit stays silent while this lives
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse the SMILES string {smiles!r}")
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise ValueError(f"RDKit's ETKDG found no 3D coordinates for {smiles!r}")
    if not AllChem.MMFFHasAllMoleculeParams(mol):
        raise ValueError(f"MMFF94 has no parameters for {smiles!r}")
    AllChem.MMFFOptimizeMolecule(mol, maxIters=max_iters)
    z = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=np.int64)
    return Molecule(name or smiles, z, mol.GetConformer().GetPositions().astype(np.float64))
