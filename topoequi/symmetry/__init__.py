"""The math layer: groups, representations, equivariant maps and Fourier transforms.

Every group is a closed subgroup of O(2) or O(3); elements are batches of
orthogonal matrices ``[B, d, d]``. See :mod:`topoequi.symmetry.group`.
"""
from topoequi.symmetry.fourier import GroupFourier, check_regular, sampling_matrix
from topoequi.symmetry.group import GROUP_NAMES, Group, Irrep, group_from_name
from topoequi.symmetry.intertwiners import (
    clebsch_gordan,
    endomorphism_basis,
    hom_basis,
    intertwiner_basis,
)
from topoequi.symmetry.planar import O2, SO2, Cyclic, Dihedral, PlanarGroup
from topoequi.symmetry.rep_parsing import MulIrrep
from topoequi.symmetry.representation import Rep, decompose, tensor_product
from topoequi.symmetry.spatial import O3, SO3, Axial, Octahedral, WithReflection

__all__ = [
    "GROUP_NAMES",
    "O2",
    "O3",
    "SO2",
    "SO3",
    "Axial",
    "Cyclic",
    "Dihedral",
    "Group",
    "GroupFourier",
    "Irrep",
    "MulIrrep",
    "Octahedral",
    "PlanarGroup",
    "Rep",
    "WithReflection",
    "check_regular",
    "clebsch_gordan",
    "decompose",
    "endomorphism_basis",
    "group_from_name",
    "hom_basis",
    "intertwiner_basis",
    "sampling_matrix",
    "tensor_product",
]

def __getattr__(name):  # conversions import e3nn / escnn lazily
    if name in ("to_e3nn", "to_escnn", "from_escnn"):
        from topoequi.symmetry import convert

        return getattr(convert, name)
    raise AttributeError(f"module 'topoequi.symmetry' has no attribute {name!r}")

from topoequi.symmetry.frames import FourierFrame, Frames
from topoequi.symmetry.sampled_graph import (
    GroupSampledGraph,
    design_grid,
    group_distance,
    knn_group_edges,
)

__all__ += ["FourierFrame", "Frames", "GroupSampledGraph", "design_grid", "group_distance", "knn_group_edges"]
