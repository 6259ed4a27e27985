"""``topoequi.load``: a training checkpoint -> a model object that predicts its task."""
from __future__ import annotations

import os

import torch

from topoequi.inference.image_predictor import ImagePredictor
from topoequi.inference.molecule_predictor import MoleculePredictor
from topoequi.inference.point_cloud_predictor import PointCloudPredictor

PREDICTORS = {"qm9": MoleculePredictor, "pointcloud": PointCloudPredictor, "images": ImagePredictor}
"""Task (the checkpoint's ``config["task"]``) -> the class that predicts it."""
OTHER_TOOLS = {"lattice": "lattice bases are reduced with `topoequi reduce BASES --checkpoint CKPT`"}


def load(checkpoint: str | os.PathLike, device: str = "auto", dtype: torch.dtype = torch.float32):
    """Load a checkpoint written by ``topoequi train`` as a ready model with ``predict``/``describe``:
    a :class:`MoleculePredictor` (``train qm9``), :class:`PointCloudPredictor` (``train pointcloud``)
    or :class:`ImagePredictor` (``train images``), chosen by the checkpoint's task.

    Example::

        model = topoequi.load("runs/make-run-qm9-homo/best.pt")
        model.predict(["water.xyz", "CCO"])        # QM9 HOMO energies in eV

    Args:
        checkpoint (str): a ``best.pt`` or ``last.pt``.
        device (str, optional): ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``. (default: ``"auto"``)
        dtype (torch.dtype, optional): precision of the model. (default: ``torch.float32``)
    """
    from topoequi.files import load_checkpoint

    ckpt = load_checkpoint(checkpoint, map_location="cpu")
    task = ckpt.get("config", {}).get("task")
    if task not in PREDICTORS:
        hint = f"; {OTHER_TOOLS[task]}" if task in OTHER_TOOLS else ""
        raise ValueError(f"load: checkpoint '{checkpoint}' is of task {task!r}; "
                         f"predictions are available for: {', '.join(PREDICTORS)}{hint}")
    return PREDICTORS[task](ckpt, checkpoint, device=device, dtype=dtype)
