"""The math layer: groups, representations, equivariant maps and Fourier transforms.

Every group is a closed subgroup of O(2) or O(3); elements are batches of
orthogonal matrices ``[B, d, d]``. See :mod:`topoequi.symmetry.group`.
"""
import re

from topoequi.symmetry.fourier import GroupFourier, check_regular, sampling_matrix
from topoequi.symmetry.group import Group, Irrep
from topoequi.symmetry.intertwiners import (
    clebsch_gordan,
    endomorphism_basis,
    hom_basis,
    intertwiner_basis,
)
from topoequi.symmetry.planar import O2, SO2, Cyclic, Dihedral, PlanarGroup
from topoequi.symmetry.representation import Rep, decompose, irreps_rep, tensor_product
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
    "irreps_rep",
    "sampling_matrix",
    "tensor_product",
]

GROUP_NAMES = ("SO(2)", "O(2)", "C<N>", "D<N>", "SO(3)", "O(3)", "SO(2)@R3", "O(2)@R3", "C<N>@R3",
               "D<N>@R3", "O", "Oh", "Ci", "Cs", "<rotation group of R3>+inversion|mirror")


def group_from_name(name: str) -> Group:
    """The group with this name, e.g. ``"SO(3)"``, ``"O(3)"``, ``"C8"``, ``"D4@R3"``, ``"Ci"``.

    Names are case-insensitive; see ``GROUP_NAMES``.
    """
    if not isinstance(name, str):
        raise TypeError(f"group name must be a str, got {type(name).__name__}")
    key = name.strip()
    low = key.lower()
    special = {"so(2)": SO2, "o(2)": O2, "so(3)": SO3, "o(3)": O3, "o": Octahedral,
               "oh": lambda: WithReflection(Octahedral(), "inversion"),
               "ci": lambda: WithReflection(Axial(Cyclic(1)), "inversion"),
               "cs": lambda: WithReflection(Axial(Cyclic(1)), "mirror")}
    if low in special:
        return special[low]()
    for suffix in ("+inversion", "+mirror"):
        if low.endswith(suffix):
            return WithReflection(group_from_name(key[: -len(suffix)]), suffix[1:])
    if low.endswith("@r3"):
        planar = group_from_name(key[:-3])
        if isinstance(planar, PlanarGroup):
            return Axial(planar)
    m = re.fullmatch(r"([cd])(\d+)", low)
    if m and int(m.group(2)) >= 1:
        return (Cyclic if m.group(1) == "c" else Dihedral)(int(m.group(2)))
    raise ValueError(f"unknown group {name!r}; valid names: {', '.join(GROUP_NAMES)}")


def __getattr__(name):  # conversions import e3nn / escnn lazily
    if name in ("to_e3nn", "from_e3nn", "to_escnn", "from_escnn"):
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
