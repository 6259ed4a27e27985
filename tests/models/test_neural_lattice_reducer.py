import numpy as np
import pytest
import torch

from topoequi.lattice import (
    gaussian_bases,
    integer_determinant,
    is_unimodular,
    lll_reduce,
    log_orthogonality_defect,
    same_lattice,
    scrambled_bases,
    uniform_integer_bases,
)
from topoequi.models import NeuralLatticeReducer


def trained_like_model(seed=0, **kwargs):
    """A model whose head is not at its (zero) initialisation, so the network really acts."""
    torch.manual_seed(seed)
    model = NeuralLatticeReducer(**kwargs).double()
    with torch.no_grad():
        for p in model.head[-1].parameters():
            p.normal_(0, 0.3)
    return model


@pytest.mark.parametrize("n", [4, 8])
def test_model_equivariance_and_invariance(n, signed_permutation):
    model = trained_like_model(steps=3)
    b = torch.tensor(scrambled_bases(gaussian_bases(6, n, seed=n), seed=1)[0])
    gram = b.mT @ b
    base = model(gram)
    u = base["unimodular"]
    q = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64))[0]
    for moved in (q @ b, 5.5 * b):  # O(n) and scale: same moves exactly, same defects
        out = model(moved.mT @ moved)
        assert torch.equal(out["unimodular"], u)
        assert (out["log_defect"] - base["log_defect"]).abs().max() < 1e-8
    for seed in range(3):  # signed permutations: U -> M^T U M, exactly
        m, _, _ = signed_permutation(n, seed)
        out = model(m.T @ gram @ m)
        assert torch.equal(out["unimodular"], m.T @ u @ m)
        assert (out["log_defect"] - base["log_defect"]).abs().max() < 1e-8
        assert (out["loss"] - base["loss"]).abs() < 1e-9


@pytest.mark.parametrize("classical", [True, False])
def test_reduce_output_is_exactly_unimodular_and_never_worse(classical):
    model = trained_like_model(steps=6, classical_proposals=classical)
    b, _ = scrambled_bases(uniform_integer_bases(8, 6, low=-30, high=30, seed=0), depth=2, seed=1)
    red, u = model.reduce(b)
    assert u.dtype == np.int64 and red.dtype == np.int64
    for x, y, v in zip(b, red, u):
        assert abs(integer_determinant(v)) == 1
        np.testing.assert_array_equal(y, x @ v)
        assert same_lattice(x, y)
    before, after = log_orthogonality_defect(b), log_orthogonality_defect(red)
    assert np.all(after <= before)
    assert np.mean(after) < 0.5 * np.mean(before)


def test_reduce_never_increases_the_defect_of_reduced_bases():
    model = trained_like_model(steps=4)
    b = scrambled_bases(gaussian_bases(16, 8, seed=3), seed=4)[0]
    lll, _ = lll_reduce(b)
    red, u = model.reduce(lll)
    assert np.all(log_orthogonality_defect(red) <= log_orthogonality_defect(lll))
    assert all(is_unimodular(v) for v in u)
    eye = np.eye(5)
    red, u = model.reduce(eye)  # orthogonal: nothing to do
    np.testing.assert_array_equal(u, np.eye(5, dtype=np.int64))
    np.testing.assert_array_equal(red, eye)


def test_reduce_keeps_huge_integers_exact():
    b = np.array([[2**80, 3 * 2**80 + 5], [7, 2**70]], dtype=object)
    red, u = NeuralLatticeReducer().reduce(b)
    assert u.tolist() == [[1, -3], [0, 1]]  # b_1 <- b_1 - 3 b_0
    assert red[:, 1].tolist() == [5, 2**70 - 21] and red[:, 0].tolist() == [2**80, 7]
    assert same_lattice(b, red)


def test_classical_proposals_reach_lll_quality_on_small_lattices():
    b = scrambled_bases(gaussian_bases(64, 4, seed=5), seed=6)[0]
    model = NeuralLatticeReducer(steps=10)  # untrained network + classical proposals
    red, _ = model.reduce(b)
    lll, _ = lll_reduce(b)
    assert log_orthogonality_defect(red).mean() <= 1.05 * log_orthogonality_defect(lll).mean()


def test_training_signal_reaches_the_network():
    model = NeuralLatticeReducer(steps=2).double()
    b = torch.tensor(scrambled_bases(gaussian_bases(8, 6, seed=7), seed=8)[0])
    out = model(b.mT @ b)
    out["loss"].backward()
    assert model.head[-1].weight.grad.abs().sum() > 0
    assert torch.isfinite(out["loss"]) and out["loss"] < 0  # Babai moves shorten the vectors


@pytest.mark.parametrize("bad, err, match", [
    (np.ones((3, 4)), ValueError, "square"),
    (np.array([[1.0, 2.0], [2.0, 4.0]]), ValueError, "singular"),
    (np.array([[np.inf, 0.0], [0.0, 1.0]]), ValueError, "non-finite"),
    (np.array([["a"]]), TypeError, "bases"),
])
def test_reduce_rejects_bad_input(bad, err, match):
    with pytest.raises(err, match=match):
        NeuralLatticeReducer().reduce(bad)
    with pytest.raises(ValueError, match="NeuralLatticeReducer"):
        NeuralLatticeReducer()(torch.ones(3, 3))
