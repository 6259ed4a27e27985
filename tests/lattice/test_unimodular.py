import numpy as np
import pytest
import torch

from topoequi.lattice import (
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


def test_integer_determinant_exact_values():
    assert integer_determinant(np.array([[2, 1], [7, 4]])) == 1
    assert integer_determinant(np.array([[0, 1, 2], [3, 4, 5], [6, 7, 9]])) == -3  # needs a pivot swap
    assert integer_determinant(np.array([[1, 2], [2, 4]])) == 0
    # beyond float precision: det of diag(2**70, 2**70 + 1) is exact
    big = np.array([[2**70, 0], [0, 2**70 + 1]], dtype=object)
    assert integer_determinant(big) == 2**140 + 2**70
    batch = integer_determinant(np.stack([np.eye(3, dtype=int), -np.eye(3, dtype=int)]))
    assert batch.tolist() == [1, -1]


def test_gauss_moves_are_exact_and_unimodular():
    u = np.eye(4, dtype=np.int64)
    u = gauss_move(u, 0, 2, 5)
    assert u[:, 2].tolist() == [5, 0, 1, 0]
    u = extended_gauss_move(u, 1, [3, 0, -2, 7])
    assert u[:, 1].tolist() == [3 - 10, 1, -2, 7]
    assert integer_determinant(u) == 1 and is_unimodular(u)
    with pytest.raises(ValueError, match="coeffs\\[j\\] must be 0"):
        extended_gauss_move(u, 1, [0, 1, 0, 0])
    with pytest.raises(ValueError, match="distinct"):
        gauss_move(u, 2, 2, 1)


def test_int64_overflow_promotes_to_python_ints():
    u = np.eye(2, dtype=np.int64)
    for _ in range(70):  # entries grow like Fibonacci numbers, far beyond 2**63
        u = gauss_move(gauss_move(u, 0, 1, 1), 1, 0, 1)
    assert u.dtype == object
    assert max(abs(int(v)) for v in u.ravel()) > 2**63
    assert integer_determinant(u) == 1
    # int64 path: an exact product next to the limit is still int64 and exact
    a = np.array([[2**30, 0], [0, 1]], dtype=np.int64)
    assert integer_matmul(a, a).dtype == np.int64 and integer_matmul(a, a)[0, 0] == 2**60
    c = integer_matmul(np.array([[2**40]]), np.array([[2**40]]))
    assert c.dtype == object and c[0, 0] == 2**80


def test_as_integer_matrix_rejects_non_integers():
    assert as_integer_matrix(torch.tensor([[1.0, 2.0]])).dtype == np.int64
    with pytest.raises(TypeError, match="non-integral"):
        as_integer_matrix(np.array([[1.5]]))
    with pytest.raises(TypeError, match="2\\*\\*53"):
        as_integer_matrix(np.array([[2.0**60]]))
    with pytest.raises(TypeError, match="non-finite"):
        as_integer_matrix(np.array([[np.inf]]))
    assert not is_unimodular(np.array([[1.5, 0], [0, 1]]))
    assert not is_unimodular(np.array([[2, 0], [0, 1]]))
    with pytest.raises(ValueError, match="not unimodular"):
        check_unimodular(np.array([[2, 0], [0, 1]]))


def test_same_lattice_exact_and_float():
    b = np.array([[3, 1], [1, 4]])
    u = np.array([[2, 1], [1, 1]])  # det 1
    assert same_lattice(b, apply_unimodular(b, u))
    assert not same_lattice(b, b @ np.array([[2, 0], [0, 1]]))  # a sublattice of index 2
    assert not same_lattice(b, b @ np.array([[1, 0], [0, -1]]) + np.array([[0, 1], [0, 0]]))
    f = np.array([[1.3, 0.2], [-0.4, 2.1]])
    assert same_lattice(f, apply_unimodular(f, u))
    assert not same_lattice(f, f @ np.array([[1.0, 0.5], [0.0, 1.0]]))
