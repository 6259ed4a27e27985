import json

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

import topoequi
from topoequi.files import atomic_save
from topoequi.inference import Molecule, MoleculePredictor, write_xyz
from topoequi.typing import WITH_RDKIT

MODELS = ["schnet", pytest.param("implicit", marks=pytest.mark.skipif(not WITH_RDKIT, reason="bonds need RDKit"))]


def checkpoint(request, model: str) -> str:
    return request.getfixturevalue(f"{model}_ckpt")


def split_molecules(qm9_root, predictor):
    from topoequi.datasets import QM9

    dataset = QM9(qm9_root, source="sample", subset=predictor.config["subset"], progress=False)
    return [dataset[int(i)] for i in dataset.split(predictor.config["split"])["test"]]


@pytest.mark.parametrize("model", MODELS)
def test_predict_reproduces_the_evaluated_test_mae(request, qm9_root, model):
    from topoequi.commands.evaluate import evaluate_checkpoint

    path = checkpoint(request, model)
    predictor = topoequi.load(path)
    molecules = split_molecules(qm9_root, predictor)
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
def test_predictions_are_invariant_to_moving_the_file(request, qm9_root, tmp_path, model):
    predictor = topoequi.load(checkpoint(request, model))
    molecules = split_molecules(qm9_root, predictor)
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


def test_every_input_kind_and_failures_in_order(schnet_ckpt, qm9_root, tmp_path):
    predictor = topoequi.load(schnet_ckpt, device="cpu")
    molecules = split_molecules(qm9_root, predictor)[:3]
    reference = [p.value for p in predictor.predict(molecules)]
    assert [p.value for p in predictor.predict(Batch.from_data_list(molecules))] == reference
    assert [p.name for p in predictor.predict(molecules)] == [d.name for d in molecules]
    d = molecules[0]
    write_xyz(tmp_path / "two.xyz", [Molecule.from_arrays(d.name, d.z, d.pos)])
    (tmp_path / "two.xyz").write_text((tmp_path / "two.xyz").read_text() + "1\n\nC 0 0 0\n")
    mixed = predictor.predict([(d.z, d.pos), tmp_path / "two.xyz", (torch.tensor([6, 17]), torch.eye(3)[:2]),
                               Molecule.from_arrays("mol", d.z.numpy(), d.pos.numpy()), 3.5], batch_size=2)
    assert [p.name for p in mixed] == ["molecule_1", "two#1", "two#2", "molecule_3", "mol", "input_5"]
    values = [p.value for p in mixed if p.error is None]  # the same molecule three times, in other batches
    assert len(values) == 3 and max(abs(v - reference[0]) for v in values) < 1e-6
    assert "at least 2 atoms" in mixed[2].error and "Cl not in the training set" in mixed[3].error
    assert mixed[5].error.startswith("cannot predict on a float") and mixed[2].formula == "C"
    assert str(mixed[0]) == f"molecule_1 ({mixed[0].formula}): {reference[0]:.6f} eV"


def test_load_refuses_what_it_cannot_predict(schnet_ckpt, tmp_path):
    atomic_save({"config": {"task": "lattice", "dim": 8}, "model": {}}, tmp_path / "lattice.pt")
    with pytest.raises(ValueError, match=r"task 'lattice'; predictions are available for: qm9, pointcloud, images; "
                                         r".*topoequi reduce"):
        topoequi.load(tmp_path / "lattice.pt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        topoequi.load(tmp_path / "none.pt")
    ckpt = torch.load(schnet_ckpt, weights_only=True)
    ckpt["config"]["hparams"] = {**ckpt["config"]["hparams"], "hidden_channels": 32}
    with pytest.raises(ValueError, match="MoleculePredictor: checkpoint .* does not fit model 'schnet'"):
        MoleculePredictor(ckpt, "edited.pt")
    with pytest.raises(ValueError, match="--device: expected auto, cpu, cuda or cuda:N, got 'tpu'"):
        topoequi.load(schnet_ckpt, device="tpu")
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        topoequi.load(schnet_ckpt).predict("CCO", batch_size=0)


def test_describe_and_repr_say_what_it_was_trained_on(schnet_ckpt):
    predictor = topoequi.load(schnet_ckpt)
    text = predictor.describe()
    assert "QM9 regressor of 'homo' in eV" in text and "model: schnet, 2,993 parameters" in text
    assert "trained on: QM9 (sample), standard split, first 80 molecules: 67 / 6 / 7 train / valid / test" in text
    assert f"mean {predictor.stats.mean:.6g} eV" in text and "bonds: not used" in text
    assert repr(predictor).startswith("MoleculePredictor(target='homo', unit='eV', model='schnet', "
                                      "group='E(3) (interatomic geometry only)', test_mae='")


def test_predict_on_every_device(schnet_ckpt, qm9_root, device):
    on_cpu = topoequi.load(schnet_ckpt, device="cpu")
    predictor = topoequi.load(schnet_ckpt, device=device)
    assert next(predictor.model.parameters()).device.type == device.type
    molecules = split_molecules(qm9_root, predictor)
    inputs = [*molecules, (molecules[0].z, molecules[0].pos.double())]  # Data on the CPU, arrays
    ours, reference = predictor.predict(inputs), on_cpu.predict(inputs)
    assert max(abs(a.value - b.value) for a, b in zip(ours, reference)) < 1e-5  # eV, float32 on either device
