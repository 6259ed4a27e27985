"""topoequi.load: the predictor of the checkpoint's task, or an error that says what can be predicted."""
import pytest
import torch

import topoequi
from topoequi.files import atomic_save
from topoequi.inference import MoleculePredictor
from topoequi.inference.tasks import PREDICTORS


def test_load_refuses_what_it_cannot_predict(tmp_path):
    atomic_save({"config": {"task": "lattice", "dim": 8}, "model": {}}, tmp_path / "lattice.pt")
    with pytest.raises(ValueError, match=r"task 'lattice'; predictions are available for: qm9, pointcloud, images; "
                                         r".*topoequi reduce"):
        topoequi.load(tmp_path / "lattice.pt")
    atomic_save({"config": {"task": "sheaf"}, "model": {}}, tmp_path / "sheaf.pt")
    with pytest.raises(ValueError, match=r"task 'sheaf'; predictions are available for: qm9, pointcloud, images$"):
        topoequi.load(tmp_path / "sheaf.pt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        topoequi.load(tmp_path / "none.pt")


def test_load_picks_the_predictor_of_the_task(schnet_ckpt):
    predictor = topoequi.load(schnet_ckpt, device="cpu", dtype=torch.float64)
    assert type(predictor) is MoleculePredictor is PREDICTORS["qm9"]
    assert predictor.dtype == torch.float64 and next(predictor.model.parameters()).dtype == torch.float64
    assert str(predictor.path) == schnet_ckpt and predictor.config["task"] == "qm9"
