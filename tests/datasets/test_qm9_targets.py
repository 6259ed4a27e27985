"""QM9 targets: names and indices, PyG's conversion constants and atom references, raw and converted values."""
import numpy as np
import pytest
import torch

from topoequi.datasets import TARGETS, qm9_targets, target_index
from topoequi.typing import WITH_PANDAS


def test_target_names_and_errors():
    assert len(TARGETS) == 19 and TARGETS[2] == "homo" and TARGETS[12] == "U0_atom"
    assert target_index("homo") == 2 and target_index(18) == 18
    with pytest.raises(ValueError, match="unknown QM9 target 'homoo'; valid targets: mu, alpha, homo"):
        target_index("homoo")
    with pytest.raises(ValueError, match="0..18"):
        target_index(19)


def test_conversion_constants_are_pygs():
    from torch_geometric.datasets import qm9 as pyg_qm9

    assert qm9_targets.HAR2EV == pyg_qm9.HAR2EV and qm9_targets.KCALMOL2EV == pyg_qm9.KCALMOL2EV
    assert torch.equal(qm9_targets.CONVERSION, pyg_qm9.conversion)
    # PyG's atomrefs (eV) are our free-atom energies (Hartree) times HAR2EV, for U0, U, H, G
    for target, name in zip((7, 8, 9, 10), ("U0", "U", "H", "G")):
        ours = np.array(qm9_targets.ATOMREF_HARTREE[name]) * qm9_targets.HAR2EV
        np.testing.assert_allclose(ours, pyg_qm9.atomrefs[target], rtol=1e-8)  # 8 digits


def test_target_index_rejects_other_types():
    with pytest.raises(TypeError, match="target must be a name or an int, got bool"):
        target_index(True)
    with pytest.raises(TypeError, match="target must be a name or an int, got float"):
        target_index(2.0)


@pytest.mark.skipif(not WITH_PANDAS, reason="needs pandas")
def test_raw_targets_and_their_conversion():
    import pandas as pd

    columns = {column: [float(i + 1), float(-i - 1)] for i, column in enumerate(qm9_targets.CSV_COLUMNS.values())}
    frame = pd.DataFrame(columns)
    counts = np.array([[4, 1, 0, 0, 0], [0, 0, 0, 0, 0]])               # methane, and a molecule of no atoms
    raw = qm9_targets.raw_targets(frame, counts)
    assert raw.shape == (2, 19) and raw.dtype == np.float64
    for i, name in enumerate(qm9_targets.CSV_COLUMNS):
        assert raw[:, TARGETS.index(name)].tolist() == [float(i + 1), float(-i - 1)]
    u0 = raw[0, TARGETS.index("U0")]
    free_atoms = 4 * qm9_targets.ATOMREF_HARTREE["U0"][0] + qm9_targets.ATOMREF_HARTREE["U0"][1]
    assert raw[0, 12] == pytest.approx((u0 - free_atoms) * qm9_targets.HAR2KCALMOL, rel=1e-15)
    assert raw[1, 12] == pytest.approx(raw[1, TARGETS.index("U0")] * qm9_targets.HAR2KCALMOL, rel=1e-15)
    converted = qm9_targets.convert_targets(raw)
    assert converted.dtype == torch.float32
    assert torch.equal(converted, torch.tensor(raw, dtype=torch.float32) * qm9_targets.CONVERSION)
    assert converted[0, 2].item() == pytest.approx(raw[0, 2] * qm9_targets.HAR2EV, rel=1e-6)   # homo in eV
