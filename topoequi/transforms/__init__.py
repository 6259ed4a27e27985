"""PyG transforms: complexes from graphs and point clouds, sheaves on them."""
from topoequi.transforms.clique_complex import CliqueComplex
from topoequi.transforms.knn_graph import KNNGraph
from topoequi.transforms.lattice_graph import LatticeGraph
from topoequi.transforms.local_homology_sheaf import AddLocalHomologySheaf
from topoequi.transforms.radius_graph import RadiusGraph
from topoequi.transforms.rips_complex import RipsComplex

__all__ = [
    "AddLocalHomologySheaf",
    "CliqueComplex",
    "KNNGraph",
    "LatticeGraph",
    "RadiusGraph",
    "RipsComplex",
]

from topoequi.transforms.persistence_diagrams import (
    PersistenceDiagrams,
    collate_diagrams,
    diagram_keys,
    diagrams_from_batch,
)

__all__ += ["PersistenceDiagrams", "collate_diagrams", "diagram_keys", "diagrams_from_batch"]
