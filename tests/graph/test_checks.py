"""Input validation of the radius / k-NN searches: accepted values come back normalised, bad ones raise a
one-line error that starts with the function and names the argument."""
import numpy as np
import pytest
import torch

from topoequi.graph import checks


def test_check_points_accepts_finite_float_matrices():
    x = torch.rand(4, 3, dtype=torch.float64)
    assert checks.check_points("f", "x", x) is x
    assert checks.check_points("f", "x", torch.empty(0, 3)).shape == (0, 3)       # empty: no finiteness check


@pytest.mark.parametrize("value, error, match", [
    (np.zeros((3, 2)), TypeError, "f: 'pos' must be a torch.Tensor, got ndarray"),
    (torch.zeros(3), ValueError, r"f: 'pos' must be 2-D \[num_points, num_dims\], got shape \(3,\)"),
    (torch.zeros(3, 2, dtype=torch.long), TypeError, "f: 'pos' must have a floating-point dtype, got torch.int64"),
    (torch.tensor([[0.0, float("inf")]]), ValueError, "f: 'pos' contains NaN or infinite coordinates"),
    (torch.tensor([[float("nan"), 0.0]]), ValueError, "f: 'pos' contains NaN or infinite coordinates"),
])
def test_check_points_rejects(value, error, match):
    with pytest.raises(error, match=match):
        checks.check_points("f", "pos", value)


def test_check_same_space():
    x = torch.zeros(3, 2)
    checks.check_same_space("f", x, torch.zeros(5, 2))
    with pytest.raises(TypeError, match="f: 'x' and 'y' must have the same dtype, got torch.float32 and torch.f"):
        checks.check_same_space("f", x, torch.zeros(5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="f: 'x' and 'y' must have the same number of columns, got 2 and 3"):
        checks.check_same_space("f", x, torch.zeros(5, 3))


def test_check_batch_values():
    points = torch.zeros(4, 2)
    assert checks.check_batch("f", "batch", None, points, None).tolist() == [0, 0, 0, 0]
    out = checks.check_batch("f", "batch", torch.tensor([0, 0, 2, 2], dtype=torch.int32), points, 3)
    assert out.dtype == torch.long and out.tolist() == [0, 0, 2, 2]
    assert checks.check_batch("f", "b", torch.empty(0, dtype=torch.long), points[:0], None).numel() == 0


@pytest.mark.parametrize("batch, batch_size, error, match", [
    ([0, 0, 1, 1], None, TypeError, "f: 'batch_x' must be a torch.Tensor or None, got list"),
    (torch.zeros(4), None, TypeError, "f: 'batch_x' must have an integer dtype, got torch.float32"),
    (torch.zeros(4, dtype=torch.bool), None, TypeError, "f: 'batch_x' must have an integer dtype"),
    (torch.zeros(3, dtype=torch.long), None, ValueError, r"f: 'batch_x' must be 1-D with one entry per point \(4\)"),
    (torch.tensor([-1, 0, 0, 0]), None, ValueError, "f: 'batch_x' must be non-negative"),
    (torch.tensor([0, 1, 0, 1]), None, ValueError, "f: 'batch_x' must be sorted in non-decreasing order"),
    (torch.tensor([0, 0, 1, 3]), 3, ValueError, "f: 'batch_x' has example 3 >= batch_size=3"),
])
def test_check_batch_rejects(batch, batch_size, error, match):
    with pytest.raises(error, match=match):
        checks.check_batch("f", "batch_x", batch, torch.zeros(4, 2), batch_size)


def test_scalar_arguments():
    assert checks.check_radius("f", 2) == 2.0 and isinstance(checks.check_radius("f", 2), float)
    assert checks.check_radius("f", 0) == 0.0
    assert checks.check_k("f", np.int64(3)) == 3 and type(checks.check_k("f", np.int64(3))) is int
    assert checks.check_max_num_neighbors("f", None) is None and checks.check_max_num_neighbors("f", 5) == 5
    assert checks.check_flow("f", "target_to_source") == "target_to_source"
    assert checks.check_flag("f", "loop", False) is False
    checks.check_batch_size("f", None)
    checks.check_batch_size("f", 2)


@pytest.mark.parametrize("call, error, match", [
    (lambda: checks.check_radius("f", True), TypeError, "f: 'r' must be a real number, got bool"),
    (lambda: checks.check_radius("f", "1"), TypeError, "f: 'r' must be a real number, got str"),
    (lambda: checks.check_radius("f", -0.5), ValueError, "f: 'r' must be finite and >= 0, got -0.5"),
    (lambda: checks.check_radius("f", float("inf")), ValueError, "f: 'r' must be finite and >= 0, got inf"),
    (lambda: checks.check_k("f", 2.0), TypeError, "f: 'k' must be an int, got float"),
    (lambda: checks.check_k("f", True), TypeError, "f: 'k' must be an int, got bool"),
    (lambda: checks.check_k("f", 0), ValueError, "f: 'k' must be >= 1, got 0"),
    (lambda: checks.check_max_num_neighbors("f", 1.5), TypeError, "f: 'max_num_neighbors' must be an int or None"),
    (lambda: checks.check_max_num_neighbors("f", 0), ValueError, r"f: 'max_num_neighbors' must be >= 1 \(or None"),
    (lambda: checks.check_flow("f", "up"), ValueError, "f: 'flow' must be one of .*, got 'up'"),
    (lambda: checks.check_flag("f", "loop", 1), TypeError, "f: 'loop' must be a bool, got int"),
    (lambda: checks.check_batch_size("f", 0), ValueError, "f: 'batch_size' must be a positive int or None, got 0"),
    (lambda: checks.check_batch_size("f", True), ValueError, "f: 'batch_size' must be a positive int or None"),
])
def test_scalar_arguments_rejected(call, error, match):
    with pytest.raises(error, match=match):
        call()
