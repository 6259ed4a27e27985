"""Simplicial complexes, local homology, the local homology sheaf, sheaf Laplacians, persistence."""
from topoequi.topology.complex import (
    SimplicialComplex,
    clean_edges,
    clique_complex,
    complex_from_simplices,
    permute_complex,
    rips_complex,
    triangles_of,
)
from topoequi.topology.laplacian import coboundary, laplacian_diagonal, sheaf_laplacian
from topoequi.topology.local_homology import (
    exact_rank,
    harmonic_basis,
    local_betti,
    open_star,
    relative_boundaries,
    restriction_map,
)
from topoequi.topology.sheaf import LocalHomologySheaf, local_homology_sheaf
from topoequi.topology.sheaf_maps import (
    persistent_local_homology_restriction,
    persistent_restriction,
    soft_presence,
    with_constant_sheaf,
)

__all__ = [
    "LocalHomologySheaf",
    "SimplicialComplex",
    "clean_edges",
    "clique_complex",
    "coboundary",
    "complex_from_simplices",
    "exact_rank",
    "harmonic_basis",
    "laplacian_diagonal",
    "local_betti",
    "local_homology_sheaf",
    "open_star",
    "permute_complex",
    "persistent_local_homology_restriction",
    "persistent_restriction",
    "relative_boundaries",
    "restriction_map",
    "rips_complex",
    "sheaf_laplacian",
    "soft_presence",
    "triangles_of",
    "with_constant_sheaf",
]

from topoequi.topology.persistence import PersistenceDiagram
from topoequi.topology.persistence_cubical import cubical_diagram
from topoequi.topology.persistence_flag import clique_diagram, rips_diagram

__all__ += ["PersistenceDiagram", "clique_diagram", "cubical_diagram", "rips_diagram"]
