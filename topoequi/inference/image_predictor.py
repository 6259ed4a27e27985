"""A trained digit classifier (``topoequi train images``) applied to new images."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from topoequi.inference.base import Predictor
from topoequi.inference.classification import ClassPrediction, top_class
from topoequi.inference.inputs import flatten_inputs
from topoequi.inference.molecule import Failure

IMAGE_SIZE = (28, 28)
"""Height and width of the training digits."""
PICTURE_FORMATS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Image:
    """A grey-scale image ``pixels`` (``[H, W]``, float32, intensities in [0, 1])."""

    name: str
    pixels: torch.Tensor


def as_image(name: str, array) -> Image:
    """``[H, W]`` or ``[1, H, W]`` array-like -> :class:`Image`; 8-bit values are scaled from 0..255."""
    pixels = torch.as_tensor(np.array(array.cpu() if isinstance(array, torch.Tensor) else array))
    pixels = pixels[0] if pixels.dim() == 3 and pixels.shape[0] == 1 else pixels
    if pixels.dim() != 2:
        raise ValueError(f"expected a grey-scale image [H, W], got shape {list(pixels.shape)}")
    scale = 255.0 if pixels.dtype == torch.uint8 else 1.0
    return Image(name, pixels.float() / scale)


def read_image(source: str | os.PathLike) -> Image | Failure:
    """A picture file (read grey-scale with Pillow) or an ``.npy`` array; a :class:`Failure` otherwise."""
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (*PICTURE_FORMATS, ".npy"):
        return Failure(path.name, f"{path}: unknown image format; readable: {', '.join(PICTURE_FORMATS)}, .npy")
    try:
        if suffix == ".npy":
            return as_image(path.stem, np.load(path, allow_pickle=False))
        from PIL import Image as PILImage

        with PILImage.open(path) as picture:
            return as_image(path.stem, np.asarray(picture.convert("L")))
    except (OSError, ValueError) as exc:
        return Failure(path.name, str(exc) if str(path) in str(exc) else f"{path}: {exc}")


def _single_image(item) -> bool:
    """One ``[H, W]`` or ``[1, H, W]`` array (a ``[N, H, W]`` one is ``N`` images)."""
    return (isinstance(item, (np.ndarray, torch.Tensor))
            and (item.ndim == 2 or (item.ndim == 3 and item.shape[0] == 1)))


def _images(k: int, item) -> list:
    if isinstance(item, (str, os.PathLike)):
        return [read_image(item)]
    try:
        return [as_image(f"image_{k + 1}", item)]
    except (ValueError, TypeError, RuntimeError) as exc:
        return [Failure(f"image_{k + 1}", f"cannot classify a {type(item).__name__}: {exc}")]


class ImagePredictor(Predictor):
    r"""A digit classifier from a ``topoequi train images`` checkpoint, ready to classify images.

    Made by :func:`topoequi.load`. Inputs: ``Data`` with ``image`` ``[1, 1, 28, 28]``
    (used as given, as in evaluation), ``[28, 28]`` arrays or tensors (8-bit
    values scaled to [0, 1]), picture files read grey-scale, ``.npy`` arrays.
    White digits on black, as MNIST. :meth:`predict` returns one
    :class:`~topoequi.inference.ClassPrediction` per image.
    Arguments as :class:`~topoequi.inference.base.Predictor`.
    """

    REQUIRED = ("task", "dataset", "model", "channels")
    classes = tuple(str(d) for d in range(10))

    def build(self) -> torch.nn.Module:
        from topoequi.train.images import MODELS, build_model

        self.group = MODELS.get(self.model_name) or "none (plain CNN)"
        self.report = self.results(model=self.model_name, dataset=self.config["dataset"])
        return build_model(self.model_name, tuple(self.config["channels"]), self.config.get("max_frequency", 2),
                           self.config.get("width", 0.5))

    def expand(self, inputs) -> list:
        return flatten_inputs(inputs, (Image,), _images, single=_single_image)

    def featurise(self, entry, seed: int) -> Data:
        if isinstance(entry, Data):
            if getattr(entry, "image", None) is None:
                raise ValueError("the graph has no 'image'")
            return Data(image=entry.image)
        if tuple(entry.pixels.shape) != IMAGE_SIZE:
            raise ValueError(f"expected {IMAGE_SIZE[0]} x {IMAGE_SIZE[1]} pixels, got "
                             f"{entry.pixels.shape[0]} x {entry.pixels.shape[1]}; resize the image first")
        if not torch.isfinite(entry.pixels).all():
            raise ValueError("the image contains NaN or infinity")
        return Data(image=entry.pixels[None, None])

    def outputs(self, out: torch.Tensor) -> list[tuple[int, float]]:
        return top_class(out)

    def result(self, name: str, graph: Data, output: tuple[int, float]) -> ClassPrediction:
        height, width = graph.image.shape[-2:]
        return ClassPrediction(name, self.classes[output[0]], output[1], f"{height}x{width} pixels")

    def failure(self, name: str, entry, error: str) -> ClassPrediction:
        return ClassPrediction(name, None, None, None, error)

    def row(self, prediction: ClassPrediction) -> dict:
        return prediction.row()

    def description(self) -> list[str]:
        c, r = self.config, self.report
        error = self.NOT_RECORDED
        if r:
            error = f"{100 * r['test_error']:.2f}% (best validation epoch {r['best_epoch']})"
        return [f"digit classifier ({c['dataset']}) ({self.path})",
                f"symmetry: {self.group}; fields per block: {tuple(c['channels'])}",
                f"checkpoint epoch: {self.epoch}; test error: {error}"]

    def __repr__(self) -> str:
        err = f", test_error={self.report['test_error']:.4f}" if self.report else ""
        return (f"{self.__class__.__name__}(dataset='{self.config['dataset']}', model='{self.model_name}', "
                f"group='{self.group}'{err})")
