"""What every trained model made ready to predict shares: checkpoint, device, the run's results,
and batched prediction that lists failures instead of raising them."""
from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path

import torch
from torch_geometric.data import Batch, Data
from tqdm import tqdm

from topoequi.inference.molecule import Failure
from topoequi.train.device import resolve_device


class Predictor(ABC):
    """Base of the task predictors made by :func:`topoequi.load`.

    A subclass builds ``self.model`` in :meth:`build` and says how inputs become
    graphs (:meth:`expand`, :meth:`featurise`), how outputs become results
    (:meth:`outputs`, :meth:`result`, :meth:`failure`) and how results become
    table rows (:meth:`row`).

    Args:
        checkpoint (dict): as read by :func:`~topoequi.train.checkpoint.load_checkpoint`.
        path (str): where it was read; the run's ``results.json`` next to it is its report.
        device (str, optional): ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``. (default: ``"auto"``)
        dtype (torch.dtype, optional): precision of the model. (default: ``torch.float32``)
    """

    REQUIRED: tuple[str, ...] = ("task", "model")
    """Keys the checkpoint's ``config`` must hold."""
    NOT_RECORDED = "not recorded (no results.json of this run next to the checkpoint)"

    def __init__(self, checkpoint: dict, path: str | os.PathLike, device: str = "auto",
                 dtype: torch.dtype = torch.float32) -> None:
        self.path = Path(path)
        self.config = dict(checkpoint.get("config", {}))
        missing = [k for k in self.REQUIRED if k not in self.config]
        if missing:
            raise ValueError(f"{type(self).__name__}: checkpoint '{path}' lacks {missing} in its config")
        self.model_name, self.hparams = self.config["model"], dict(self.config.get("hparams") or {})
        self.epoch = checkpoint.get("epoch")
        self.device, self.dtype = resolve_device(device), dtype
        model = self.build()
        try:
            model.load_state_dict(checkpoint["model"])
        except (RuntimeError, KeyError) as exc:
            raise ValueError(f"{type(self).__name__}: checkpoint '{path}' does not fit model "
                             f"{self.model_name!r} with hyper-parameters {self.hparams}: {exc}") from exc
        self.model = model.to(self.device, dtype).eval()

    def results(self, **expected) -> dict | None:
        """The run's ``results.json`` when it agrees with ``expected`` (else ``None``)."""
        try:
            results = json.loads((self.path.parent / "results.json").read_text())
        except (OSError, ValueError):
            return None
        return results if all(results.get(k) == v for k, v in expected.items()) else None

    def predict(self, inputs, batch_size: int = 64, progress: bool = False, seed: int = 0) -> list:
        """Predict every structure of ``inputs``, in order; failures are listed, never raised.

        Args:
            inputs: what :meth:`expand` accepts, alone or in a list.
            batch_size (int, optional): structures per forward pass. (default: ``64``)
            progress (bool, optional): show a progress bar when there is more than one batch.
                (default: ``False``)
            seed (int, optional): random seed of generated inputs (conformers, surface samples). (default: ``0``)
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"{type(self).__name__}: batch_size must be a positive int, got {batch_size!r}")
        entries = self.expand(inputs)
        out: list = []
        with tqdm(total=len(entries), desc="structures", disable=not progress or len(entries) <= batch_size) as bar:
            for start in range(0, len(entries), batch_size):
                chunk = entries[start:start + batch_size]
                out.extend(self._predict_chunk(chunk, start, seed))
                bar.update(len(chunk))
        return out

    def _predict_chunk(self, chunk: list, start: int, seed: int) -> list:
        rows: list = []
        ready: list[tuple[int, str, Data]] = []
        for k, entry in enumerate(chunk):
            name = getattr(entry, "name", None) or f"structure_{start + k + 1}"
            if isinstance(entry, Failure):
                rows.append(self.failure(name, entry, entry.error))
                continue
            try:
                ready.append((k, name, self.featurise(entry, seed)))
                rows.append(None)
            except (ValueError, ImportError) as exc:
                rows.append(self.failure(name, entry, str(exc)))
        if ready:
            batch = Batch.from_data_list([graph for _, _, graph in ready]).to(self.device)
            for key, value in batch.items():  # coordinates, images: the model's precision
                if torch.is_floating_point(value):
                    batch[key] = value.to(self.dtype)
            with torch.no_grad():
                outputs = self.outputs(self.model(batch))
            for (k, name, graph), output in zip(ready, outputs):
                rows[k] = self.result(name, graph, output)
        return rows

    def table(self, predictions: list) -> list[dict]:
        """One plain dict per prediction (the rows of ``topoequi predict``)."""
        return [self.row(p) for p in predictions]

    # ------------------------------------------------------------ per task
    @abstractmethod
    def build(self) -> torch.nn.Module:
        """The untrained model of the checkpoint's configuration."""

    @abstractmethod
    def expand(self, inputs) -> list:
        """``inputs`` -> one entry per structure (unreadable ones included, to become failures)."""

    @abstractmethod
    def featurise(self, entry, seed: int) -> Data:
        """One entry -> the graph the model reads; ``ValueError`` / ``ImportError`` when it cannot."""

    @abstractmethod
    def outputs(self, out: torch.Tensor) -> list:
        """The model's batch output -> one value per graph."""

    @abstractmethod
    def result(self, name: str, graph: Data, output):
        """A prediction record."""

    @abstractmethod
    def failure(self, name: str, entry, error: str):
        """The record of an entry that could not be predicted."""

    @abstractmethod
    def row(self, prediction) -> dict:
        """A record as a plain dict."""

    @abstractmethod
    def description(self) -> list[str]:
        """A title line, then lines on the data, the symmetry and the run's test score, for :meth:`describe`."""

    def describe(self) -> str:
        """What the model is, what it was trained on and how well it did on its test split."""
        title, *details = self.description()
        params = sum(p.numel() for p in self.model.parameters())
        return "\n".join([
            title, f"model: {self.model_name}, {params:,} parameters, hyper-parameters {self.hparams or 'default'}",
            *details, f"device: {self.device}, {str(self.dtype).replace('torch.', '')}"])

    def header(self) -> dict:
        """What the rows are (JSON output's header)."""
        return {"checkpoint": str(self.path), "task": self.config["task"], "model": self.model_name}
