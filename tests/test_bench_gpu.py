"""``benchmarks/bench_gpu.py`` runs on the CPU at small sizes and writes its rows."""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu.py"


def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(out) -> list[dict]:
    result = json.loads((out / "results.json").read_text())
    assert result["machine"]["device"] == "cpu" or result["machine"]["cuda"]
    return result["rows"]


def test_conv_layer_part_runs_on_the_cpu(tmp_path):
    assert bench().main(["--small", "--parts", "a", "--repeats", "1", "--device", "cpu", "--out", str(tmp_path)]) == 0
    got = rows(tmp_path)
    assert [(r["model"], r["molecules"]) for r in got] == [
        (m, n) for n in (8, 32) for m in ("implicit", "steerable", "e3nn")]
    assert all(r["ms"] > 0 and r["edges"] > 0 for r in got)


@pytest.mark.slow
def test_every_part_runs_on_the_cpu(tmp_path):
    assert bench().main(["--small", "--repeats", "1", "--budget", "1", "--device", "cpu", "--out", str(tmp_path)]) == 0
    got = rows(tmp_path)
    steps = [r for r in got if r["part"] == "b"]
    assert len(steps) == 14 and all(r["molecules_per_s"] > 0 for r in steps)
    padded = [(r["model"], r["data"]) for r in steps if "budget_atoms" in r]  # no CUDA graph on the CPU
    assert padded == [("implicit", "DeviceLoader, padded"), ("steerable", "DeviceLoader, padded")]
    final = [r for r in got if r["part"] == "c"]
    assert [r["model"] for r in final] == ["implicit", "schnet", "dimenet++"]
    assert all(r["steps"] >= 1 and math.isfinite(r["test_mae_meV"]) for r in final)


def test_equivariance_part_runs_on_the_cpu(tmp_path, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    assert bench().main(["--small", "--parts", "e", "--device", "cpu", "--out", str(tmp_path)]) == 0
    got = rows(tmp_path)
    assert [(r["model"], r["aggregation"]) for r in got] == [  # no Triton rows off CUDA
        ("implicit", "torch"), ("steerable", "torch"), ("SteerableMoleculeNet (implicit)", "torch")]
    for r in got:
        assert r["check"] == "equivariance" and r["dtype"] == "float64" and r["group"] == "O(3)" and r["reflections"]
        assert 0 < r["max_error"] < 1e-12 and r["met"] and r["output_scale"] > 0.1


def test_triton_switch_is_restored(monkeypatch):
    module = bench()
    monkeypatch.delenv("TOPOEQUI_TRITON", raising=False)
    with module.triton_aggregation(True):
        assert os.environ["TOPOEQUI_TRITON"] == "1"
    assert "TOPOEQUI_TRITON" not in os.environ
    monkeypatch.setenv("TOPOEQUI_TRITON", "1")
    with module.triton_aggregation(False):
        assert os.environ["TOPOEQUI_TRITON"] == "0"
    assert os.environ["TOPOEQUI_TRITON"] == "1"


@pytest.mark.slow
def test_triton_rows_under_the_interpreter(tmp_path):
    """Triton's CPU interpreter stands in for CUDA: the Triton rows appear and agree with torch."""
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(SCRIPT.parents[1])}
    done = subprocess.run([sys.executable, str(SCRIPT), "--small", "--parts", "e", "--device", "cpu", "--out",
                           str(tmp_path)], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    got = rows(tmp_path)
    equivariance = [r for r in got if r["check"] == "equivariance"]
    assert [r["aggregation"] for r in equivariance] == ["torch", "triton", "torch", "triton", "torch"]
    assert all(r["max_error"] < 1e-12 for r in equivariance)
    compared = [r for r in got if r["check"] == "triton vs torch"]
    assert [(r["model"], r["dtype"]) for r in compared] == [
        (m, d) for d in ("float32", "float64") for m in ("implicit", "steerable")]
    for r in compared:
        assert r["met"] and r["forward_scale"] > 0.1 and r["grad_params_scale"] > 0.1
        assert r["max_relative_diff"] < (1e-12 if r["dtype"] == "float64" else 1e-5)


def test_gpu_checks_script_is_valid_bash_and_runs_every_part():
    script = SCRIPT.with_name("gpu_checks.sh")
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    assert os.access(script, os.X_OK)
    text = script.read_text()
    for part in ("e", "a", "b", "c"):
        assert f"--parts {part} " in text
    assert "runs/qm9_full.npz" in text and "bench_precision.py" in text and "SMALL" in text
