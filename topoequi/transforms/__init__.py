"""PyG transforms: complexes from graphs and point clouds, sheaves on them."""
from topoequi.transforms.clique_complex import CliqueComplex
from topoequi.transforms.lattice_graph import LatticeGraph
from topoequi.transforms.local_homology_sheaf import LocalHomologySheaf
from topoequi.transforms.rips_complex import RipsComplex

__all__ = ["CliqueComplex", "LatticeGraph", "LocalHomologySheaf", "RipsComplex"]
