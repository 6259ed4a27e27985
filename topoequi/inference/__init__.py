"""Trained models applied to new inputs: ``topoequi.load(checkpoint).predict(...)`` on molecules
(QM9 regressors), point clouds (shape classifiers) and images (digit classifiers)."""
from topoequi.inference.classification import ClassPrediction
from topoequi.inference.image_predictor import Image, ImagePredictor
from topoequi.inference.molecule import Failure, Molecule
from topoequi.inference.molecule_predictor import MoleculePredictor, Prediction
from topoequi.inference.point_cloud_predictor import PointCloudPredictor
from topoequi.inference.point_clouds import Mesh, PointCloud
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
    "ClassPrediction", "Failure", "Image", "ImagePredictor", "Mesh", "Molecule", "MoleculePredictor", "PointCloud",
    "PointCloudPredictor", "Prediction", "load", "molecule_from_smiles", "read_sdf",
    "read_smiles_file", "read_structures", "read_xyz", "write_xyz",
]
