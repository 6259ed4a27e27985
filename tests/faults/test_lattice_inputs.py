"""Faults: lattice bases at extreme scales, with huge integer entries, empty, and no-op or bad settings."""
import subprocess
import sys

import numpy as np
import pytest

from topoequi.cli import main
from topoequi.lattice import (
    check_basis,
    gaussian_bases,
    integer_determinant,
    is_lll_reduced,
    lll_reduce,
    log_orthogonality_defect,
    scrambled_bases,
    uniform_integer_bases,
)
from topoequi.models import NeuralLatticeReducer

SCALES = [1e200, 1e-200, 2.0**-1000, 2.0**1000]


@pytest.fixture(scope="module")
def float_bases():
    return scrambled_bases(gaussian_bases(6, 5, seed=0), depth=2, seed=1)[0]


def huge_z2_basis(k: int) -> np.ndarray:
    """A basis of Z^2 with entries near k (determinant exactly 1); ``object`` beyond int64."""
    basis = np.empty((2, 2), dtype=object)
    basis[...] = [[k, k + 1], [k - 1, k]]
    return basis if k > 2**62 else basis.astype(np.int64)


@pytest.mark.parametrize("scale", SCALES)
def test_network_reduces_any_scale_like_scale_one(float_bases, scale):
    model = NeuralLatticeReducer()
    reduced, u = model.reduce(float_bases)
    reduced_s, u_s = model.reduce(float_bases * scale)
    assert np.array_equal(u_s, u)  # the same transformation, found on the rescaled Gram matrices
    before = log_orthogonality_defect(float_bases)
    np.testing.assert_allclose(log_orthogonality_defect(reduced_s), log_orthogonality_defect(reduced), atol=1e-9)
    assert np.all(log_orthogonality_defect(reduced) < before - 1.0)  # and it really reduces


@pytest.mark.parametrize("scale", SCALES)
def test_lll_reduces_any_scale_like_scale_one(float_bases, scale):
    _, u = lll_reduce(float_bases)
    reduced_s, u_s = lll_reduce(float_bases * scale)
    assert np.array_equal(u_s, u)
    assert all(is_lll_reduced(b) for b in reduced_s)


def test_reduce_command_at_1e200_and_1e_200(tmp_path, float_bases):
    outs = {}
    for scale in (1.0, 1e200, 1e-200):
        np.save(tmp_path / f"b{scale:g}.npy", float_bases[:1] * scale)
        assert main(["reduce", str(tmp_path / f"b{scale:g}.npy")]) == 0
        outs[scale] = np.load(tmp_path / f"b{scale:g}.U.npy"), np.load(tmp_path / f"b{scale:g}.reduced.npy")
    assert not np.array_equal(outs[1.0][0][0], np.eye(5))
    for scale in (1e200, 1e-200):
        assert np.array_equal(outs[scale][0], outs[1.0][0])
        np.testing.assert_allclose(outs[scale][1] / scale, outs[1.0][1], rtol=1e-12)


@pytest.mark.parametrize("k", [10**15, 10**40])
def test_integer_bases_with_huge_entries_reduce_exactly(tmp_path, k):
    basis = huge_z2_basis(k)
    assert check_basis(basis) is basis  # not "nearly singular": the determinant is exactly 1
    for reduce in (lll_reduce, NeuralLatticeReducer().reduce):
        reduced, u = reduce(basis)
        assert abs(integer_determinant(u)) == 1
        assert np.array_equal(reduced, (basis.astype(object) @ u.astype(object)).astype(reduced.dtype))
        assert sorted(abs(int(v)) for v in reduced.ravel()) == [0, 0, 1, 1]  # Z^2: a signed permutation
        assert float(log_orthogonality_defect(reduced)) == 0.0
    path = tmp_path / "huge.txt"
    path.write_text("\n".join(" ".join(str(v) for v in row) for row in basis) + "\n")
    assert main(["reduce", str(path), "--method", "lll"]) == 0
    u = [[int(v) for v in line.split()] for line in (tmp_path / "huge.U.txt").read_text().splitlines()]
    assert abs(integer_determinant(np.array(u, dtype=object))) == 1 and max(abs(v) for r in u for v in r) >= k


def test_singular_integer_basis_is_still_refused_exactly():
    k = 10**15
    with pytest.raises(ValueError, match=r"singular \(determinant exactly 0\)"):
        check_basis(np.array([[k, 2 * k], [k + 1, 2 * k + 2]]))
    assert check_basis(np.array([[k, 2 * k], [k + 1, 2 * k + 3]])).dtype == np.int64  # det = k


def test_ill_conditioned_integer_bases_are_reduced():
    original = uniform_integer_bases(3, 6, low=-9, high=9, seed=0)
    bases, _ = scrambled_bases(original, depth=16, seed=1)
    assert np.all(np.linalg.cond(bases.astype(float)) > 1e12)  # refused as "nearly singular" before
    reduced, u = lll_reduce(bases)
    assert all(is_lll_reduced(b) for b in reduced) and [abs(d) for d in integer_determinant(u)] == [1] * 3
    np.testing.assert_allclose(log_orthogonality_defect(reduced), log_orthogonality_defect(lll_reduce(original)[0]))
    network, _ = NeuralLatticeReducer().reduce(bases, steps=16)
    assert np.all(log_orthogonality_defect(network) < 0.1 * log_orthogonality_defect(bases))  # 80 -> 4, ...


def test_empty_batch_is_refused(tmp_path, capsys):
    empty = np.zeros((0, 4, 4))
    for reduce in (lll_reduce, NeuralLatticeReducer().reduce):
        with pytest.raises(ValueError, match="empty batch"):
            reduce(empty)
    np.save(tmp_path / "empty.npy", empty)
    assert main(["reduce", str(tmp_path / "empty.npy")]) == 2
    assert "empty batch" in capsys.readouterr().err
    assert not (tmp_path / "empty.U.npy").exists()


@pytest.mark.parametrize("flags,message", [
    (["--steps", "0"], "--steps must be at least 1"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--threads", "-2"], "--threads must be at least 1"),
    (["--delta", "2"], "--delta has no effect with --method network"),
    (["--method", "lll", "--delta", "2"], "--delta must be in (1/4, 1]"),
    (["--method", "lll", "--steps", "4"], "--steps has no effect with --method lll"),
    (["--method", "fpylll", "--checkpoint", "best.pt"], "--checkpoint has no effect with --method fpylll"),
    (["--checkpoint", "missing.pt"], "--checkpoint 'missing.pt' does not exist"),
    (["--output", "nowhere/out"], "nowhere' does not exist"),
])
def test_bad_and_no_op_settings_are_one_error_line(tmp_path, capsys, float_bases, flags, message):
    np.save(tmp_path / "b.npy", float_bases)
    assert main(["reduce", str(tmp_path / "b.npy"), *flags]) == 2
    err = capsys.readouterr().err
    assert err == f"topoequi reduce: error: {err.split('error: ', 1)[1]}" and message in err and err.count("\n") == 1
    assert not (tmp_path / "b.U.npy").exists()


@pytest.mark.slow
def test_user_errors_print_no_traceback(tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((0, 3, 3)))
    proc = subprocess.run([sys.executable, "-m", "topoequi.cli", "reduce", str(tmp_path / "empty.npy")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
