"""The scripts in examples/ run and print what they promise (slow: they train or load real data)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name: str) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
def test_steerable_conv_any_group_is_equivariant():
    errors = [float(e) for e in re.findall(r"equivariance error ([0-9.e+-]+)", run("steerable_conv_any_group.py"))]
    assert len(errors) == 4 and max(errors) < 1e-9


@pytest.mark.slow
def test_local_homology_sheaf_ranks():
    out = run("local_homology_sheaf.py")
    assert "vertex 0: [0, 0, 1]" in out and "centre: [0, 4]" in out
    assert "183 vertices" in out


@pytest.mark.slow
def test_qm9_homo_beats_the_mean():
    out = run("qm9_homo.py")
    mae, baseline = (float(v) for v in re.search(r"MAE after 3 short epochs: (\d+) meV \(predicting the mean: (\d+)",
                                                    out).groups())
    assert mae < baseline
