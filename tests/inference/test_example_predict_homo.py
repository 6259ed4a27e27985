"""examples/predict_homo.py runs and predicts the same values from an XYZ file as from the PyG Data."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from topoequi.typing import WITH_RDKIT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "predict_homo.py"


@pytest.mark.slow
def test_predict_homo_example():
    proc = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from_xyz = re.findall(r"test_molecules#\d \((\w+)\): (-?[\d.]+) eV", proc.stdout)
    from_data = re.findall(r"gdb_\d+ \((\w+)\): (-?[\d.]+) eV", proc.stdout)
    assert "test MAE: " in proc.stdout and len(from_data) == 4
    if WITH_RDKIT:
        assert [f for f, _ in from_xyz] == [f for f, _ in from_data]  # XYZ file vs Data: centring moves float32
        assert max(abs(float(a) - float(b)) for (_, a), (_, b) in zip(from_xyz, from_data)) < 2e-6
        assert "(H2O): -" in proc.stdout and "CCCl (?): failed: element(s) Cl not in the training set" in proc.stdout
    else:
        assert "pip install 'topoequi[qm9]'" in proc.stdout
