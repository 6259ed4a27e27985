"""3D molecules from SMILES strings (RDKit, seeded), and what to install without RDKit."""
import numpy as np
import pytest

from topoequi.inference.smiles import SmilesString, molecule_from_smiles
from topoequi.typing import WITH_RDKIT

needs_rdkit = pytest.mark.skipif(not WITH_RDKIT, reason="needs RDKit (the qm9 extra)")


@needs_rdkit
def test_smiles_conformer_is_seeded_and_relaxed():
    a, b = molecule_from_smiles("CCO", seed=3), molecule_from_smiles("CCO", seed=3)
    assert a.formula == "C2H6O" and a.z.tolist()[:3] == [6, 6, 8] and np.array_equal(a.pos, b.pos)
    assert np.linalg.norm(a.pos[0] - a.pos[1]) == pytest.approx(1.51, abs=0.02)  # MMFF C-C
    with pytest.raises(ValueError, match="RDKit cannot parse the SMILES string 'C1CC'"):
        molecule_from_smiles("C1CC")


def test_smiles_without_rdkit_says_what_to_install(monkeypatch):
    import topoequi.typing

    monkeypatch.setattr(topoequi.typing, "WITH_RDKIT", False)
    with pytest.raises(ImportError, match=r"pip install 'topoequi\[qm9\]'"):
        molecule_from_smiles("CCO")


@needs_rdkit
def test_smiles_string_is_embedded_only_when_asked():
    pending = SmilesString("CCO", "ethanol")
    mol = pending.to_molecule(seed=3)
    reference = molecule_from_smiles("CCO", seed=3)
    assert mol.name == "ethanol" and np.array_equal(mol.z, reference.z) and np.array_equal(mol.pos, reference.pos)
    assert molecule_from_smiles("CCO").name == "CCO"
