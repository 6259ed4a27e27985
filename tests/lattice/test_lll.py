import numpy as np
import pytest

from topoequi.lattice import (
    gaussian_bases,
    integer_determinant,
    is_lll_reduced,
    lll_reduce,
    log_orthogonality_defect,
    same_lattice,
    scrambled_bases,
    uniform_integer_bases,
)


def test_lll_on_a_textbook_example():
    # Classic example (rows in Cohen / Wikipedia): basis (1,1,1), (-1,0,2), (3,5,6) as columns.
    b = np.array([[1, -1, 3], [1, 0, 5], [1, 2, 6]])
    red, u = lll_reduce(b)
    np.testing.assert_array_equal(red, b @ u)
    assert abs(integer_determinant(u)) == 1
    assert is_lll_reduced(red, delta=0.99, eta=0.5)
    # reduced basis vectors (up to sign): (0,1,0), (1,0,1), (-1,0,2)
    assert sorted(tuple(sorted(abs(red[:, i]))) for i in range(3)) == [(0, 0, 1), (0, 1, 1), (0, 1, 2)]


def test_lll_output_is_reduced_and_same_lattice_integer():
    b, _ = scrambled_bases(uniform_integer_bases(6, 7, seed=0), depth=2, seed=1)
    red, u = lll_reduce(b)
    assert red.dtype == np.int64 and u.dtype == np.int64
    for x, y, v in zip(b, red, u):
        assert abs(integer_determinant(v)) == 1
        np.testing.assert_array_equal(y, x @ v)
        assert same_lattice(x, y)
        assert is_lll_reduced(y, delta=0.99, eta=0.5)  # exact rational check
        assert not is_lll_reduced(x)
    assert np.all(log_orthogonality_defect(red) < log_orthogonality_defect(b))


def test_lll_output_is_reduced_float_batch():
    b, _ = scrambled_bases(gaussian_bases(8, 12, seed=2), seed=3)
    red, u = lll_reduce(b)
    np.testing.assert_allclose(red, b @ u, rtol=0, atol=1e-9 * np.abs(b).max())
    assert all(is_lll_reduced(y, delta=0.99, eta=0.5) for y in red)
    _single, u0 = lll_reduce(b[0])
    np.testing.assert_array_equal(u0, u[0])  # batched run = one at a time


def test_is_lll_reduced_detects_each_condition():
    assert is_lll_reduced(np.array([[1, 0], [0, 1]]))
    assert not is_lll_reduced(np.array([[1, 1], [0, 1]]))  # mu = 1 > 1/2
    assert not is_lll_reduced(np.array([[2, 0], [0, 1]]))  # Lovasz: 1 < 0.99 * 4
    assert is_lll_reduced(np.array([[1, 0], [0, 1]]).astype(float))
    assert not is_lll_reduced(np.array([[2.0, 0.0], [0.0, 1.0]]))


def test_lll_rejects_bad_input():
    with pytest.raises(ValueError, match="delta"):
        lll_reduce(np.eye(2), delta=0.2)
    with pytest.raises(ValueError, match="singular"):
        lll_reduce(np.array([[1, 2], [2, 4]]))
    with pytest.raises(ValueError, match="square"):
        lll_reduce(np.ones((2, 3)))


def test_huge_integer_entries_stay_exact():
    b = np.array([[2**80, 3 * 2**80 + 5], [7, 2**70]], dtype=object)  # beyond int64 and float precision
    red, u = lll_reduce(b)
    # b_1 - 3 b_0 = (5, 2**70 - 21), exactly
    assert red.dtype == object and red[:, 0].tolist() == [5, 2**70 - 21] and red[:, 1].tolist() == [2**80, 7]
    assert u.tolist() == [[-3, 1], [1, 0]]
    assert same_lattice(b, red) and is_lll_reduced(red)
