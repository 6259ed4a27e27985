"""A molecule from arrays, Hill formulas and element symbols."""
import numpy as np
import pytest

from topoequi.inference import Molecule
from topoequi.inference.molecule import atomic_number, formula


def test_formula_is_hill_ordered_and_symbols_parse():
    assert formula([6, 1, 1, 1, 1]) == "CH4" and formula([8, 1, 1]) == "H2O"
    assert formula([8, 6, 1, 6, 1, 1, 1, 1, 1]) == "C2H6O" and formula([9, 7, 1]) == "FHN"
    assert [atomic_number(t) for t in ("C", "cl", "CL", "9")] == [6, 17, 17, 9]
    with pytest.raises(ValueError, match="unknown element 'Xx'"):
        atomic_number("Xx")


def test_molecule_from_arrays_checks_shapes(water):
    mol = Molecule.from_arrays("m", [8, 1, 1], [p for _, p in water])
    assert mol.z.dtype == np.int64 and mol.pos.shape == (3, 3)
    with pytest.raises(ValueError, match=r"positions must have shape \[3, 3\] for 3 atoms, got \[3, 2\]"):
        Molecule.from_arrays("m", [8, 1, 1], np.zeros((3, 2)))
