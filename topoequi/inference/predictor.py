r"""A trained QM9 regressor applied to new molecules.

The model of ``topoequi train qm9`` predicts the standardised target
:math:`(y - \mu) / \sigma`, with :math:`\mu, \sigma` from the training split;
:class:`MoleculePredictor` returns :math:`\hat y = \sigma f(\mathcal{G}) + \mu`
in the target's unit (eV for energies), computed in float64 exactly as the
training's metrics and ``topoequi evaluate`` do.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch_geometric.data import Batch, Data
from tqdm import tqdm

from topoequi.inference.featurize import model_input, molecule_to_data
from topoequi.inference.inputs import Entry, expand_inputs
from topoequi.inference.molecule import Failure, formula
from topoequi.inference.smiles import SmilesString
from topoequi.train.device import resolve_device
from topoequi.train.qm9 import MODELS, TargetStats, build_model


@dataclass(frozen=True)
class Prediction:
    """One structure's prediction (``value`` in ``unit``), or why there is none (``error``)."""

    name: str
    formula: str
    value: float | None
    unit: str
    error: str | None = None

    def __str__(self) -> str:
        result = f"{self.value:.6f} {self.unit}" if self.error is None else f"failed: {self.error}"
        return f"{self.name} ({self.formula or '?'}): {result}"


class MoleculePredictor:
    r"""A QM9 model from a ``topoequi train qm9`` checkpoint, ready to predict its target.

    Usually made by :func:`topoequi.load`. Inputs are featurised as the training
    data (:mod:`topoequi.inference.featurize`), batched and moved to ``device``.

    Args:
        checkpoint (dict): a checkpoint as read by :func:`~topoequi.train.checkpoint.load_checkpoint`.
        path (str): where it was read; the run's ``results.json`` next to it gives the test MAE.
        device (str, optional): ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``. (default: ``"auto"``)
        dtype (torch.dtype, optional): precision of the model. (default: ``torch.float32``)
    """

    def __init__(self, checkpoint: dict, path: str | os.PathLike, device: str = "auto",
                 dtype: torch.dtype = torch.float32) -> None:
        from topoequi.datasets.qm9 import UNITS

        self.path = Path(path)
        self.config = dict(checkpoint.get("config", {}))
        missing = [k for k in ("task", "target", "model", "hparams", "stats") if k not in self.config]
        if missing:
            raise ValueError(f"MoleculePredictor: checkpoint '{path}' lacks {missing} in its config")
        names = {f.name for f in fields(TargetStats)}
        self.stats = TargetStats(**{k: v for k, v in self.config["stats"].items() if k in names})
        self.target, self.unit = self.stats.target, UNITS[self.stats.index]
        self.model_name, self.hparams = self.config["model"], dict(self.config["hparams"])
        self.epoch = checkpoint.get("epoch")
        self.device, self.dtype = resolve_device(device), dtype
        self.model = self._build(checkpoint).to(self.device, dtype).eval()
        self.uses_bonds = bool(getattr(self.model, "edge_attributes", False))
        self.results = self._results()

    def _build(self, checkpoint: dict) -> torch.nn.Module:
        if self.model_name not in MODELS:
            raise ValueError(f"MoleculePredictor: checkpoint '{self.path}' is of model {self.model_name!r}, "
                             f"not registered here (available: {', '.join(MODELS)})")
        model = build_model(self.model_name, self.hparams, self.stats)
        try:
            model.load_state_dict(checkpoint["model"])
        except (RuntimeError, KeyError) as exc:
            raise ValueError(f"MoleculePredictor: checkpoint '{self.path}' does not fit model "
                             f"{self.model_name!r} with hyper-parameters {self.hparams}: {exc}") from exc
        return model

    def _results(self) -> dict | None:
        """The run's ``results.json`` when it belongs to this checkpoint's model and target."""
        try:
            results = json.loads((self.path.parent / "results.json").read_text())
        except (OSError, ValueError):
            return None
        same = results.get("model") == self.model_name and results.get("target") == self.target
        return results if same else None

    @property
    def group(self) -> str:
        """The symmetry the prediction is invariant to."""
        group = getattr(self.model, "group", None)
        return f"{group.name} and translations" if group is not None else "E(3) (interatomic geometry only)"

    def predict(self, inputs, batch_size: int = 64, progress: bool = False, seed: int = 0) -> list[Prediction]:
        """Predict every structure of ``inputs``, in order; failures are listed, never raised.

        Args:
            inputs: a PyG ``Data`` or ``Batch``, an ``(atomic numbers, positions)`` pair, a
                :class:`~topoequi.inference.Molecule`, a file path (``.xyz``, ``.sdf``, ``.mol``,
                ``.smi``) or a SMILES string, or a list of these.
            batch_size (int, optional): structures per forward pass. (default: ``64``)
            progress (bool, optional): show a progress bar. (default: ``False``)
            seed (int, optional): random seed of the SMILES conformers. (default: ``0``)
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"MoleculePredictor: batch_size must be a positive int, got {batch_size!r}")
        entries = expand_inputs(inputs)
        out: list[Prediction] = []
        with tqdm(total=len(entries), desc="molecules", unit="mol", disable=not progress) as bar:
            for start in range(0, len(entries), batch_size):
                chunk = entries[start:start + batch_size]
                out.extend(self._predict_chunk(chunk, start, seed))
                bar.update(len(chunk))
        return out

    def _predict_chunk(self, chunk: list[Entry], start: int, seed: int) -> list[Prediction]:
        rows: list[Prediction | None] = []
        ready: list[tuple[int, str, Data]] = []
        for k, entry in enumerate(chunk):
            name = getattr(entry, "name", None) or f"structure_{start + k + 1}"
            if isinstance(entry, Failure):
                rows.append(Prediction(name, entry.formula, None, self.unit, entry.error))
                continue
            try:
                ready.append((k, name, self._featurise(entry, seed)))
                rows.append(None)
            except (ValueError, ImportError) as exc:
                rows.append(Prediction(name, _formula(entry), None, self.unit, str(exc)))
        if ready:
            values = self._forward([graph for _, _, graph in ready]).tolist()
            for (k, name, graph), value in zip(ready, values):
                rows[k] = Prediction(name, formula(graph.z.tolist()), value, self.unit)
        return rows

    def _featurise(self, entry: Entry, seed: int) -> Data:
        if isinstance(entry, SmilesString):
            entry = entry.to_molecule(seed)
        if isinstance(entry, Data):
            return model_input(entry, self.uses_bonds)
        return molecule_to_data(entry, self.uses_bonds)

    @torch.no_grad()
    def _forward(self, graphs: list[Data]) -> torch.Tensor:
        batch = Batch.from_data_list(graphs).to(self.device)
        batch.pos = batch.pos.to(self.dtype)
        out = self.model(batch).view(-1).double().cpu()
        return out * self.stats.std + self.stats.mean

    def describe(self) -> str:
        """What the model is, what it was trained on and how well it did on its test split."""
        c, r = self.config, self.results
        data = f"QM9 ({c.get('source', '?')}), {c.get('split', '?')} split"
        if c.get("subset"):
            data += f", first {c['subset']} molecules"
        if r:
            data += f": {r['train_size']:,} / {r['valid_size']:,} / {r['test_size']:,} train / valid / test"
        test = "not recorded (no results.json of this run next to the checkpoint)"
        if r:
            test = f"{r['test_mae']:.2f} {r['unit']} (best.pt, epoch {r['best_epoch']} of {r['epochs']})"
        params = sum(p.numel() for p in self.model.parameters())
        return "\n".join([
            f"QM9 regressor of '{self.target}' in {self.unit} ({self.path})",
            f"model: {self.model_name}, {params:,} parameters, hyper-parameters {self.hparams or 'default'}",
            f"invariant to: {self.group}; bonds: {'derived with RDKit' if self.uses_bonds else 'not used'}",
            f"trained on: {data}",
            f"standardisation: mean {self.stats.mean:.6g} {self.unit}, std {self.stats.std:.6g} {self.unit}",
            f"checkpoint epoch: {self.epoch}; test MAE: {test}",
            f"device: {self.device}, {str(self.dtype).replace('torch.', '')}"])

    def __repr__(self) -> str:
        mae = f", test_mae='{self.results['test_mae']:.2f} {self.results['unit']}'" if self.results else ""
        return (f"{self.__class__.__name__}(target='{self.target}', unit='{self.unit}', "
                f"model='{self.model_name}', group='{self.group}'{mae})")


def _formula(entry: Entry) -> str:
    z = getattr(entry, "z", None)
    return "" if z is None else formula(z.tolist())
