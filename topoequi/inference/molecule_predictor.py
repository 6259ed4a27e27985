r"""A trained QM9 regressor applied to new molecules.

The model of ``topoequi train qm9`` predicts the standardised target
:math:`(y - \mu) / \sigma`, with :math:`\mu, \sigma` from the training split;
:class:`MoleculePredictor` returns :math:`\hat y = \sigma f(\mathcal{G}) + \mu`
in the target's unit (eV for energies), computed in float64 exactly as the
training's metrics and ``topoequi evaluate`` do.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch_geometric.data import Data

from topoequi.inference.base import Predictor
from topoequi.inference.featurize import model_input, molecule_to_data
from topoequi.inference.inputs import Entry, expand_inputs
from topoequi.inference.molecule import formula
from topoequi.inference.smiles import SmilesString
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


class MoleculePredictor(Predictor):
    r"""A QM9 model from a ``topoequi train qm9`` checkpoint, ready to predict its target.

    Made by :func:`topoequi.load`. Inputs (PyG ``Data`` / ``Batch``, ``(z, pos)``
    pairs, :class:`~topoequi.inference.Molecule`, ``.xyz`` / ``.sdf`` / ``.mol`` /
    ``.smi`` files or SMILES strings) are featurised as the training data
    (:mod:`topoequi.inference.featurize`), batched and moved to the device;
    :meth:`predict` returns one :class:`Prediction` per structure.
    Arguments as :class:`~topoequi.inference.base.Predictor`.
    """

    REQUIRED = ("task", "target", "model", "hparams", "stats")

    def build(self) -> torch.nn.Module:
        from topoequi.datasets.qm9 import UNITS

        names = {f.name for f in fields(TargetStats)}
        self.stats = TargetStats(**{k: v for k, v in self.config["stats"].items() if k in names})
        self.target, self.unit = self.stats.target, UNITS[self.stats.index]
        if self.model_name not in MODELS:
            raise ValueError(f"MoleculePredictor: checkpoint '{self.path}' is of model {self.model_name!r}, "
                             f"not registered here (available: {', '.join(MODELS)})")
        model = build_model(self.model_name, self.hparams, self.stats)
        self.uses_bonds = bool(getattr(model, "edge_attributes", False))
        self.report = self.results(model=self.model_name, target=self.target)
        return model

    @property
    def group(self) -> str:
        """The symmetry the prediction is invariant to."""
        group = getattr(self.model, "group", None)
        return f"{group.name} and translations" if group is not None else "E(3) (interatomic geometry only)"

    def expand(self, inputs) -> list[Entry]:
        return expand_inputs(inputs)

    def featurise(self, entry: Entry, seed: int) -> Data:
        if isinstance(entry, SmilesString):
            entry = entry.to_molecule(seed)
        if isinstance(entry, Data):
            return model_input(entry, self.uses_bonds)
        return molecule_to_data(entry, self.uses_bonds)

    def outputs(self, out: torch.Tensor) -> list[float]:
        return (out.view(-1).double().cpu() * self.stats.std + self.stats.mean).tolist()

    def result(self, name: str, graph: Data, output: float) -> Prediction:
        return Prediction(name, formula(graph.z.tolist()), output, self.unit)

    def failure(self, name: str, entry: Entry, error: str) -> Prediction:
        z = getattr(entry, "z", None)
        return Prediction(name, getattr(entry, "formula", "") or ("" if z is None else formula(z.tolist())),
                          None, self.unit, error)

    def row(self, prediction: Prediction) -> dict:
        return {"name": prediction.name, "formula": prediction.formula, "target": self.target,
                "prediction": prediction.value, "unit": prediction.unit, "error": prediction.error or ""}

    def header(self) -> dict:
        return super().header() | {"target": self.target, "unit": self.unit}

    def description(self) -> list[str]:
        c, r = self.config, self.report
        data = f"QM9 ({c.get('source', '?')}), {c.get('split', '?')} split"
        if c.get("subset"):
            data += f", first {c['subset']} molecules"
        if r:
            data += f": {r['train_size']:,} / {r['valid_size']:,} / {r['test_size']:,} train / valid / test"
        test = self.NOT_RECORDED
        if r:
            test = f"{r['test_mae']:.2f} {r['unit']} (best.pt, epoch {r['best_epoch']} of {r['epochs']})"
        return [f"QM9 regressor of '{self.target}' in {self.unit} ({self.path})",
                f"invariant to: {self.group}; bonds: {'derived with RDKit' if self.uses_bonds else 'not used'}",
                f"trained on: {data}",
                f"standardisation: mean {self.stats.mean:.6g} {self.unit}, std {self.stats.std:.6g} {self.unit}",
                f"checkpoint epoch: {self.epoch}; test MAE: {test}"]

    def __repr__(self) -> str:
        mae = f", test_mae='{self.report['test_mae']:.2f} {self.report['unit']}'" if self.report else ""
        return (f"{self.__class__.__name__}(target='{self.target}', unit='{self.unit}', "
                f"model='{self.model_name}', group='{self.group}'{mae})")
