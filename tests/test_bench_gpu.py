"""``benchmarks/bench_gpu.py`` runs on the CPU at small sizes and writes its rows."""
import importlib.util
import json
import math
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
