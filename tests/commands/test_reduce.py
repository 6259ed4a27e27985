import numpy as np
import pytest

from topoequi.cli import main
from topoequi.lattice import (
    integer_determinant,
    is_lll_reduced,
    log_orthogonality_defect,
    scrambled_bases,
    uniform_integer_bases,
)
from topoequi.typing import WITH_FPYLLL


@pytest.fixture()
def integer_bases(tmp_path):
    b, _ = scrambled_bases(uniform_integer_bases(5, 5, low=-9, high=9, seed=0), depth=2, seed=1)
    path = tmp_path / "bases.npy"
    np.save(path, b)
    return b, path


@pytest.mark.parametrize("method", ["network", "lll", "lll+network"] + (["fpylll"] if WITH_FPYLLL else []))
def test_reduce_npy_writes_exact_results(integer_bases, method):
    b, path = integer_bases
    assert main(["reduce", str(path), "--method", method]) == 0
    red = np.load(path.with_name("bases.reduced.npy"))
    u = np.load(path.with_name("bases.U.npy"))
    assert red.dtype == np.int64 and u.dtype == np.int64
    np.testing.assert_array_equal(red, b @ u)
    assert [abs(d) for d in integer_determinant(u)] == [1] * 5
    assert np.all(log_orthogonality_defect(red) <= log_orthogonality_defect(b))
    if method in ("lll", "fpylll"):
        assert all(is_lll_reduced(x, eta=0.51) for x in red)


def test_reduce_txt_rows_convention(tmp_path):
    rows = np.array([[1, 1, 1], [-1, 0, 2], [3, 5, 6]])  # basis vectors as rows
    path = tmp_path / "basis.txt"
    np.savetxt(path, rows, fmt="%d")
    assert main(["reduce", str(path), "--rows", "--method", "lll", "--output", str(tmp_path / "out")]) == 0
    red = np.loadtxt(tmp_path / "out.reduced.txt").astype(np.int64)
    u = np.loadtxt(tmp_path / "out.U.txt").astype(np.int64)
    np.testing.assert_array_equal(red, u @ rows)
    assert abs(integer_determinant(u)) == 1
    assert is_lll_reduced(red.T)


def test_reduce_rejects_bad_files(tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((2, 3)))
    (tmp_path / "x.csv").write_text("1")
    for path, message in ((bad, "must be a square matrix"), (tmp_path / "x.csv", "must be a .npy or .txt file"),
                          (tmp_path / "missing.npy", "does not exist")):
        assert main(["reduce", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("topoequi reduce: error: ") and message in err and err.count("\n") == 1
