"""A trained point-cloud classifier applied to new shapes."""
from __future__ import annotations

import torch
from torch_geometric.data import Data

from topoequi.inference.base import Predictor
from topoequi.inference.classification import ClassPrediction, top_class
from topoequi.inference.point_clouds import expand_point_clouds, point_cloud_to_data


def class_names(dataset: str) -> tuple[str, ...]:
    """The classes of a ``topoequi train pointcloud`` dataset, in label order."""
    if dataset == "shapes":
        from topoequi.datasets.shapes import SHAPE_CLASSES

        return tuple(SHAPE_CLASSES)
    from topoequi.datasets.modelnet import CATEGORIES

    if not dataset.startswith("modelnet") or dataset[len("modelnet"):] not in CATEGORIES:
        raise ValueError(f"class_names: unknown point-cloud dataset {dataset!r}")
    return tuple(CATEGORIES[dataset[len("modelnet"):]])


class PointCloudPredictor(Predictor):
    r"""A classifier from a ``topoequi train pointcloud`` checkpoint, ready to classify shapes.

    Made by :func:`topoequi.load`. Inputs: PyG ``Data`` / ``Batch`` with ``pos``
    (used as given, as in evaluation), ``[N, 3]`` arrays or tensors, ``.off``
    meshes, ``.npy`` / ``.xyz`` / ``.txt`` / ``.pts`` / ``.csv`` point files.
    Points other than ``Data`` are prepared as the training shapes: at most
    ``num_points`` of them (a seeded subset, or seeded samples on a mesh's
    surface), centred and scaled into the unit ball. :meth:`predict` returns one
    :class:`ClassPrediction` per shape: :math:`\arg\max_c p_c` with
    :math:`p = \mathrm{softmax}(f(X))`.
    Arguments as :class:`~topoequi.inference.base.Predictor`.
    """

    REQUIRED = ("task", "dataset", "model", "hparams", "num_points")

    def build(self) -> torch.nn.Module:
        from topoequi.train.pointcloud import build_model

        self.classes = class_names(self.config["dataset"])
        self.num_points = int(self.config["num_points"])
        self.group = self.config.get("group") or "none (not built in)"
        self.report = self.results(model=self.model_name, dataset=self.config["dataset"])
        return build_model(self.model_name, len(self.classes), self.config.get("group"), self.hparams)

    def expand(self, inputs) -> list:
        return expand_point_clouds(inputs)

    def featurise(self, entry, seed: int) -> Data:
        if isinstance(entry, Data):
            if getattr(entry, "pos", None) is None or entry.pos.dim() != 2 or entry.pos.shape[-1] != 3:
                raise ValueError("the graph needs 'pos' of shape [N, 3]")
            return Data(pos=entry.pos)
        return point_cloud_to_data(entry, self.num_points, seed)

    def outputs(self, out: torch.Tensor) -> list[tuple[int, float]]:
        return top_class(out)

    def result(self, name: str, graph: Data, output: tuple[int, float]) -> ClassPrediction:
        return ClassPrediction(name, self.classes[output[0]], output[1], f"{graph.num_nodes} points")

    def failure(self, name: str, entry, error: str) -> ClassPrediction:
        return ClassPrediction(name, None, None, None, error)

    def row(self, prediction: ClassPrediction) -> dict:
        return prediction.row()

    def header(self) -> dict:
        return super().header() | {"dataset": self.config["dataset"], "classes": list(self.classes)}

    def description(self) -> list[str]:
        c, r = self.config, self.report
        accuracy = self.NOT_RECORDED
        if r:
            accuracy = ", ".join(f"{mode} {100 * acc:.1f}%" for mode, acc in r["test_accuracy_by_rotation"].items())
        return [f"point-cloud classifier of {len(self.classes)} {c['dataset']} classes ({self.path})",
                f"symmetry: {self.group}; trained with rotations: {c.get('train_rotation', '?')}",
                f"shapes: {self.num_points} points, centred and scaled into the unit ball",
                f"checkpoint epoch: {self.epoch}; test accuracy by test rotation: {accuracy}"]

    def __repr__(self) -> str:
        acc = f", test_accuracy={self.report['test_accuracy']:.3f}" if self.report else ""
        return (f"{self.__class__.__name__}(dataset='{self.config['dataset']}', model='{self.model_name}', "
                f"group='{self.group}', classes={len(self.classes)}{acc})")
