"""Simplicial complexes, local homology, the local homology sheaf, sheaf Laplacians, persistence."""
from topoequi.topology.complex import (SimplicialComplex, clean_edges, clique_complex,
                                       complex_from_simplices, rips_complex, triangles_of)
from topoequi.topology.laplacian import coboundary, laplacian_diagonal, sheaf_laplacian
from topoequi.topology.local_homology import (exact_rank, harmonic_basis, local_betti, open_star,
                                              relative_boundaries, restriction_map)
from topoequi.topology.sheaf import (LocalHomologySheaf, local_homology_sheaf, persistent_restriction,
                                     soft_presence)

__all__ = [
    "SimplicialComplex", "clean_edges", "clique_complex", "complex_from_simplices", "rips_complex",
    "triangles_of", "coboundary", "laplacian_diagonal", "sheaf_laplacian", "exact_rank",
    "harmonic_basis", "local_betti", "open_star", "relative_boundaries", "restriction_map",
    "LocalHomologySheaf", "local_homology_sheaf", "persistent_restriction", "soft_presence",
]
