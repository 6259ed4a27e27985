import numpy as np
import pytest
import torch

from topoequi.lattice import (
    check_basis,
    log_norm_product,
    log_orthogonality_defect,
    log_orthogonality_defect_from_gram,
    orthogonality_defect,
    scaled_float,
)


def test_defect_of_known_bases():
    # orthogonal basis: defect exactly 1
    assert log_orthogonality_defect(np.diag([2.0, 3.0, 5.0])) == pytest.approx(0.0, abs=1e-15)
    # [[1, 1], [0, 1]]: norms 1 and sqrt(2), det 1 -> defect sqrt(2)
    b = np.array([[1, 1], [0, 1]])
    assert orthogonality_defect(b) == pytest.approx(np.sqrt(2), rel=1e-15)
    assert log_orthogonality_defect(torch.tensor(b)).item() == pytest.approx(0.5 * np.log(2), rel=1e-15)
    # from the Gram matrix
    assert log_orthogonality_defect_from_gram(b.T @ b) == pytest.approx(0.5 * np.log(2), rel=1e-15)


def test_defect_is_stable_where_the_product_overflows():
    b = np.diag([1e200, 1e200, 1e-150])
    b[0, 1] = 1e200  # second vector has norm sqrt(2) * 1e200
    assert log_orthogonality_defect(b) == pytest.approx(0.5 * np.log(2), rel=1e-12)
    assert log_orthogonality_defect(torch.tensor(b)).item() == pytest.approx(0.5 * np.log(2), rel=1e-12)


def test_defect_invariances_and_batch():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((5, 6, 6))
    q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    d = log_orthogonality_defect(b)
    assert d.shape == (5,) and np.all(d > 0)
    np.testing.assert_allclose(log_orthogonality_defect(q @ b), d, rtol=1e-12)
    np.testing.assert_allclose(log_orthogonality_defect(3.7 * b), d, rtol=1e-12)
    t = torch.tensor(b, requires_grad=True)
    out = log_orthogonality_defect(t)
    np.testing.assert_allclose(out.detach().numpy(), d, rtol=1e-12)
    out.sum().backward()
    assert torch.isfinite(t.grad).all()


@pytest.mark.parametrize("bad, match", [
    (np.ones((2, 3)), "square"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "non-finite"),
    (np.array([[1, 2], [2, 4]]), "singular"),
    (np.array([[1.0, 1.0], [1.0, 1.0 + 1e-14]]), "nearly singular"),
    (np.ones(3), "square"),
])
def test_bad_bases_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        check_basis(bad)


def test_non_numeric_basis_is_a_type_error():
    with pytest.raises(TypeError, match="basis"):
        check_basis(np.array([["a", "b"], ["c", "d"]]))


def test_scaled_float_is_an_exact_power_of_two_rescaling():
    b = np.array([[[3.0, -0.75], [1e-3, 2.5]], [[-1e250, 7e249], [3e249, 1e249]]])
    scaled, exps = scaled_float(b)
    assert exps.tolist() == [2, 831]  # max |entry| 3 in [2, 4) and 1e250 in [2**830, 2**831)
    assert np.array_equal(np.ldexp(scaled, exps[:, None, None]), b)  # exact: nothing rounded
    assert np.all((np.abs(scaled).max((-2, -1)) >= 0.5) & (np.abs(scaled).max((-2, -1)) < 1))
    big = np.empty((2, 2), dtype=object)
    big[...] = [[3 * 10**400, 1], [-(10**400), 2]]
    scaled, exp = scaled_float(big)
    assert int(exp) == (3 * 10**400).bit_length() and scaled[0, 0] == (3 * 10**400) / 2**int(exp)
    assert scaled[0, 1] == 0.0  # 1 / 2**1330 is below the smallest float64: rounds to 0


def test_log_norm_product_is_exact_for_integers_of_any_size():
    k = 10**200
    big = np.empty((2, 2), dtype=object)
    big[...] = [[k, 0], [0, 3 * k]]  # columns of norms k and 3k
    assert log_norm_product(big) == pytest.approx(2 * 200 * np.log(10) + np.log(3), rel=1e-15)
    assert log_orthogonality_defect(big) == pytest.approx(0.0, abs=1e-12)
    b = np.array([[3, 4], [4, -3]])  # norms 5, 5; orthogonal
    assert log_norm_product(b) == pytest.approx(2 * np.log(5), rel=1e-15)
    np.testing.assert_allclose(log_norm_product(b * 1e-300), 2 * np.log(5e-300), rtol=1e-14)
