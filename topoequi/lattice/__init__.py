"""Lattice bases (columns are basis vectors), orthogonality defect, generators,
exact unimodular moves, a batched reference LLL and an fpylll wrapper."""
from topoequi.lattice.basis import (
    check_basis,
    log_norm_product,
    log_orthogonality_defect,
    log_orthogonality_defect_from_gram,
    orthogonality_defect,
    scaled_float,
)
from topoequi.lattice.fpylll_lll import fpylll_lll, integer_approximation
from topoequi.lattice.generators import (
    gaussian_bases,
    random_unimodular,
    scrambled_bases,
    uniform_integer_bases,
)
from topoequi.lattice.lll import is_lll_reduced, lll_reduce
from topoequi.lattice.unimodular import (
    apply_unimodular,
    as_integer_matrix,
    check_unimodular,
    extended_gauss_move,
    gauss_move,
    integer_determinant,
    integer_matmul,
    is_unimodular,
    same_lattice,
)

__all__ = [
    "apply_unimodular", "as_integer_matrix", "check_basis", "check_unimodular",
    "extended_gauss_move", "fpylll_lll", "gauss_move", "gaussian_bases", "integer_approximation",
    "integer_determinant", "integer_matmul", "is_lll_reduced", "is_unimodular", "lll_reduce",
    "log_norm_product", "log_orthogonality_defect", "log_orthogonality_defect_from_gram", "orthogonality_defect",
    "random_unimodular", "same_lattice", "scaled_float", "scrambled_bases", "uniform_integer_bases",
]
