"""Reading raw QM9: the qm9pack text fields, and bonds found from coordinates as the embedded sample has them."""
import numpy as np
import pytest

from topoequi.datasets import qm9 as qm9_module
from topoequi.datasets import qm9_packed, qm9_raw
from topoequi.typing import WITH_RDKIT

SYMBOLS = {1: "H", 6: "C", 7: "N", 8: "O", 9: "F"}


def test_text_fields_parse():
    assert qm9_raw.parse_elements("['C', 'H','H' ]") == ["C", "H", "H"]
    assert qm9_raw.parse_elements('["O"]') == ["O"]
    xyz = qm9_raw.parse_coordinates("[[-0.0126981359, 1.0858041578, 0.0080009958],[0.002150416,-0.0060313176,1e-3]]")
    assert xyz.dtype == np.float64 and xyz.shape == (2, 3)
    assert xyz[0].tolist() == [-0.0126981359, 1.0858041578, 0.0080009958] and xyz[1, 2] == 0.001
    with pytest.raises(ValueError):
        qm9_raw.parse_coordinates("[[1.0, 2.0]]")                          # not a multiple of three


@pytest.mark.skipif(not WITH_RDKIT, reason="needs RDKit")
def test_bonds_from_coordinates_match_the_sample():
    sample = qm9_packed.load_packed(qm9_module.SAMPLE_PATH)
    atom_end, bond_end = np.cumsum(sample["num_atoms"]), np.cumsum(sample["num_bonds"])
    for m in range(12):
        atoms = slice(atom_end[m] - sample["num_atoms"][m], atom_end[m])
        bonds = slice(bond_end[m] - sample["num_bonds"][m], bond_end[m])
        elements = [SYMBOLS[int(z)] for z in sample["z"][atoms]]
        found = qm9_raw.bonds_from_xyz(elements, sample["pos"][atoms].astype(np.float64))
        assert found["bond_method"] == sample["bond_method"][m]
        assert np.array_equal(found["bonds"], sample["bonds"][bonds]), m
    methane = qm9_raw.bonds_from_xyz(["C", "H", "H", "H", "H"], sample["pos"][:5].astype(np.float64))
    assert methane["bonds"].tolist() == [[0, 1], [0, 2], [0, 3], [0, 4]]
    assert methane["bond_type"].tolist() == [0] * 4 and methane["hybridization"].tolist() == [3, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="bonds_from_xyz: RDKit could not read the coordinates"):
        qm9_raw.bonds_from_xyz(["Xx"], np.zeros((1, 3)))
