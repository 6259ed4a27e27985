import numpy as np
import pytest

from topoequi.lattice import (
    gaussian_bases,
    integer_determinant,
    random_unimodular,
    same_lattice,
    scrambled_bases,
    uniform_integer_bases,
)


def test_random_unimodular_has_exact_unit_determinant():
    for dim, depth in ((3, 1), (8, 2), (16, 1)):
        u = random_unimodular(6, dim, depth=depth, seed=dim)
        assert u.shape == (6, dim, dim) and u.dtype == np.int64
        assert [abs(d) for d in integer_determinant(u)] == [1] * 6
    assert not np.array_equal(random_unimodular(1, 5, seed=0), random_unimodular(1, 5, seed=1))
    np.testing.assert_array_equal(random_unimodular(2, 5, seed=3), random_unimodular(2, 5, seed=3))


def test_scrambled_bases_span_the_same_lattice():
    ints = uniform_integer_bases(4, 5, low=-9, high=9, seed=0)
    assert ints.dtype == np.int64 and all(d != 0 for d in integer_determinant(ints))
    assert ints.min() >= -9 and ints.max() <= 9
    scrambled, u = scrambled_bases(ints, depth=2, seed=1)
    np.testing.assert_array_equal(scrambled, ints @ u)
    assert all(same_lattice(a, b) for a, b in zip(ints, scrambled))
    g = gaussian_bases(3, 6, seed=2)
    sg, _ = scrambled_bases(g, seed=4)
    assert all(same_lattice(a, b) for a, b in zip(g, sg))


def test_generator_arguments_are_checked():
    with pytest.raises(ValueError, match="dim"):
        gaussian_bases(2, 0)
    with pytest.raises(ValueError, match="low < high"):
        uniform_integer_bases(1, 3, low=2, high=2)
    with pytest.raises(ValueError, match="density"):
        random_unimodular(1, 3, density=1.5)
