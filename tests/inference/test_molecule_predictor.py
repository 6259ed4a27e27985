"""MoleculePredictor: QM9 predictions that reproduce the evaluated test MAE, are invariant to moving the
molecule, and say what the model was trained on."""
import json

import numpy as np
import pytest
import torch

import topoequi
from topoequi.inference import Molecule, write_xyz
from topoequi.typing import WITH_RDKIT

MODELS = ["schnet", pytest.param("implicit", marks=pytest.mark.skipif(not WITH_RDKIT, reason="bonds need RDKit"))]


def checkpoint(request, model: str) -> str:
    return request.getfixturevalue(f"{model}_ckpt")


@pytest.mark.parametrize("model", MODELS)
def test_predict_reproduces_the_evaluated_test_mae(request, qm9_root, split_molecules, model):
    from topoequi.commands.evaluate import evaluate_checkpoint

    path = checkpoint(request, model)
    predictor = topoequi.load(path)
    molecules = split_molecules(predictor)
    values = torch.tensor([p.value for p in predictor.predict(molecules)], dtype=torch.float64)
    y = torch.stack([d.y[0, 2] for d in molecules]).double()
    mae_ev = float((values - y).abs().mean())
    reference = evaluate_checkpoint(path, root=qm9_root)
    assert reference["unit"] == "meV" and len(molecules) == reference["size"] == 7
    assert abs(mae_ev - reference["mae"] / 1000) < 1e-9  # measured: 0.0
    results = json.loads((predictor.path.parent / "results.json").read_text())
    assert f"test MAE: {results['test_mae']:.2f} meV (best.pt, epoch" in predictor.describe()


def random_isometry(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random orthogonal matrix with determinant -1 (a rotation times a reflection) and a shift."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return (q if np.linalg.det(q) < 0 else -q), rng.normal(scale=5.0, size=3)


@pytest.mark.parametrize("model", MODELS)
def test_predictions_are_invariant_to_moving_the_file(request, split_molecules, tmp_path, model):
    predictor = topoequi.load(checkpoint(request, model))
    molecules = split_molecules(predictor)
    q, t = random_isometry(0)
    for name, move in (("original", lambda p: p), ("moved", lambda p: p @ q.T + t)):
        write_xyz(tmp_path / f"{name}.xyz", [Molecule.from_arrays(d.name, d.z, move(d.pos.double().numpy()))
                                             for d in molecules])
    before, after = (predictor.predict(tmp_path / f"{name}.xyz") for name in ("original", "moved"))
    assert [p.name for p in after] == [f"moved#{k}" for k in range(1, 8)] and all(p.error is None for p in after)
    error = max(abs(a.value - b.value) for a, b in zip(before, after))
    assert error < 1e-6  # eV, float32; measured: schnet 4.9e-7, implicit 4.3e-7
    exact = topoequi.load(checkpoint(request, model), dtype=torch.float64)
    before, after = (exact.predict(tmp_path / f"{name}.xyz") for name in ("original", "moved"))
    exact_error = max(abs(a.value - b.value) for a, b in zip(before, after))
    assert exact_error < 1e-9  # float64, limited by the file's 10 decimals; measured 5e-11, 1e-11


def test_describe_and_repr_say_what_it_was_trained_on(schnet_ckpt):
    predictor = topoequi.load(schnet_ckpt)
    text = predictor.describe()
    assert "QM9 regressor of 'homo' in eV" in text and "model: schnet, 2,993 parameters" in text
    assert "trained on: QM9 (sample), standard split, first 80 molecules: 67 / 6 / 7 train / valid / test" in text
    assert f"mean {predictor.stats.mean:.6g} eV" in text and "bonds: not used" in text
    assert repr(predictor).startswith("MoleculePredictor(target='homo', unit='eV', model='schnet', "
                                      "group='E(3) (interatomic geometry only)', test_mae='")
