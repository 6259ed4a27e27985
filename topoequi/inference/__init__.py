"""Trained models applied to new inputs: ``topoequi.load(checkpoint).predict(...)``."""
from topoequi.inference.molecule import Failure, Molecule
from topoequi.inference.molecule_predictor import MoleculePredictor, Prediction
from topoequi.inference.readers import (
    read_sdf,
    read_smiles_file,
    read_structures,
    read_xyz,
    write_xyz,
)
from topoequi.inference.smiles import molecule_from_smiles
from topoequi.inference.tasks import load

__all__ = [
    "Failure", "Molecule", "MoleculePredictor", "Prediction", "load", "molecule_from_smiles", "read_sdf",
    "read_smiles_file", "read_structures", "read_xyz", "write_xyz",
]
