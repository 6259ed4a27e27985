"""The training loop of every task: devices, precision, epochs, logging, checkpoints, exact resume, DDP.

:class:`Trainer` owns the loop; a task supplies the model, the data and the
per-sample ``loss_fn`` / ``metrics_fn``, and overrides through hooks only what
differs: ``configure_optimizers`` (default AdamW with a cosine schedule),
``train_batches`` (default: the PyG ``DataLoader`` over ``train_set``) and
``validate`` (default: ``metrics_fn`` averaged over ``valid_set``). Per epoch it
writes a row to ``log.csv`` (and TensorBoard when installed), prints it as one
line, and writes ``last.pt`` and, when the monitored metric improves,
``best.pt``, both atomically. ``fit(resume=True)`` continues from ``last.pt``
exactly: weights, optimizer, scheduler, history and random generators are
restored, and the data order of every epoch is a function of ``(seed, epoch)``.

Devices: the model and every batch live on ``config.device`` (``"auto"``: CUDA
when available). Losses and metrics are summed on the device and read once
per epoch, so a step never waits for the host. Checkpoints hold CPU tensors
and load on any device. With ``config.data_path="device"`` (``"auto"``: on
CUDA when the dataset fits in a quarter of the free memory) an
``InMemoryDataset`` lives on the device and its batches are gathered there
(:class:`~topoequi.loader.DeviceLoader`), in the order the ``DataLoader``
would use, so both paths train the same steps.

Distributed data parallel: in a process group (``torchrun``, or :func:`~topoequi.train.distributed.spawn`
for ``--devices N``; NCCL with one GPU per process on CUDA, gloo on the CPU)
every rank trains on its share of each global batch (``DistributedSampler``);
the per-rank batch is ``batch_size // world_size`` so that the global batch,
and with it the loss curve, is the one of a single process.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor

from topoequi.files import atomic_save, load_checkpoint
from topoequi.progress import progress_bar
from topoequi.train.checkpoint import rng_state, set_rng_state
from topoequi.train.device import autocast, check_precision, resolve_device, set_matmul_precision
from topoequi.train.distributed import World
from topoequi.train.logger import RunLogger, plot_curves


@dataclass
class TrainConfig:
    """Settings of the loop itself (the task's own settings go into the trainer's ``identity``).

    ``monitor`` is the row entry that selects ``best.pt``, minimised (``mode="min"``) or maximised;
    ``patience`` stops after that many epochs without improvement; ``echo`` prints a line per epoch.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.0
    grad_clip: float | None = 10.0
    seed: int = 0
    monitor: str = "valid_mae"
    mode: str = "min"
    patience: int | None = None
    progress: bool = True
    echo: bool = True
    device: str = "auto"
    precision: str = "float32"
    data_path: str = "auto"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size") + (("patience",) if self.patience is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"--lr must be a positive number, got {self.lr!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"--weight-decay must be >= 0, got {self.weight_decay!r}")
        if self.mode not in ("min", "max"):
            raise ValueError(f"TrainConfig: mode must be 'min' or 'max', got {self.mode!r}")
        check_precision(self.precision)
        resolve_device(self.device)
        if self.data_path not in DATA_PATHS:
            raise ValueError(f"--data-path: expected one of {', '.join(DATA_PATHS)}, got {self.data_path!r}")


DATA_PATHS = ("auto", "loader", "device")
"""Where batches are built: ``loader`` (PyG's ``DataLoader`` on the CPU), ``device`` (gathered on the device)."""


def adamw_cosine(model: torch.nn.Module, config: TrainConfig):
    """The default ``configure_optimizers``: AdamW and a cosine schedule over ``config.epochs``."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)


def to_device(batch, device: torch.device):
    """``batch.to(device, non_blocking=True)`` for tensors and PyG ``Data`` / ``Batch``; else unchanged."""
    return batch.to(device, non_blocking=True) if hasattr(batch, "to") else batch


def _float32(out):
    """Outputs of an autocast forward pass back in float32 (losses and metrics are never bf16)."""
    if isinstance(out, Tensor):
        return out.float() if out.dtype in (torch.bfloat16, torch.float16) else out
    if isinstance(out, dict):
        return {k: _float32(v) for k, v in out.items()}
    return out


@dataclass
class Trainer:
    """Train ``model`` on ``train_set``, select on ``valid_set``, write everything to ``out_dir``.

    Args:
        model: maps a batch to per-sample outputs.
        train_set, valid_set: PyG datasets (or ``Subset`` views or lists of ``Data``).
        loss_fn: ``(output, batch) -> losses`` per-sample training loss (its mean is minimised).
        metrics_fn: ``(output, batch) -> {name: [num_graphs]}`` per-sample values, averaged over a
            dataset and reported as ``valid_<name>``.
        config: the loop settings.
        out_dir: where ``log.csv``, ``last.pt``, ``best.pt``, ``curves.png`` go (``None``: nowhere).
        identity: what a checkpoint must match to be resumed or evaluated; checked on load.
        callbacks: called as ``callback(trainer, row)`` after each epoch (after the checkpoints).
        epoch_start: called as ``epoch_start(trainer, epoch)`` before each epoch's training (0-based,
            resumed runs included): for schedules of anything but the learning rate.
        configure_optimizers: ``(model, config) -> (optimizer, scheduler or None)``.
            (default: :func:`adamw_cosine`)
        train_batches: ``(trainer, epoch) -> iterable of batches``. (default: the ``DataLoader``)
        validate: ``(trainer) -> {name: float}``, the validation entries of the epoch's row.
            (default: ``valid_<name>`` of :meth:`evaluate` on ``valid_set``)
    """

    model: torch.nn.Module
    train_set: object
    valid_set: object
    loss_fn: Callable[[Tensor, object], Tensor]
    metrics_fn: Callable[[Tensor, object], dict[str, Tensor]] | None
    config: TrainConfig
    out_dir: str | os.PathLike | None
    identity: dict = field(default_factory=dict)
    callbacks: list[Callable] = field(default_factory=list)
    epoch_start: Callable[[Trainer, int], None] | None = None
    configure_optimizers: Callable = adamw_cosine
    train_batches: Callable[[Trainer, int], Iterable] | None = None
    validate: Callable[[Trainer], dict[str, float]] | None = None

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir) if self.out_dir is not None else None
        self.world = World.current()
        self.device = resolve_device(self.config.device)
        if self.world.size > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", self.world.rank)))
        if self.config.batch_size % self.world.size:
            raise ValueError(f"Trainer: batch_size {self.config.batch_size} must be divisible by "
                             f"the number of processes {self.world.size}")
        set_matmul_precision(self.config.precision)
        self.model.to(self.device)
        self.optimizer, self.scheduler = self.configure_optimizers(self.model, self.config)
        self.network = self.model
        if self.world.size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.history: list[dict] = []
        self.best = math.inf if self.config.mode == "min" else -math.inf
        self.best_epoch = self.epoch = self.steps = 0
        self.stopped = False
        write = self.out_dir is not None and self.world.is_main
        self.logger = RunLogger(self.out_dir, echo=self.config.echo) if write else None
        self._device_loaders: dict[int, object] = {}

    @property
    def best_row(self) -> dict:
        """The history row of the epoch that ``best.pt`` holds."""
        return self.history[self.best_epoch - 1]

    def _improves(self, value: float) -> bool:
        return value < self.best if self.config.mode == "min" else value > self.best

    # ------------------------------------------------------------------ data
    def _device_loader(self, dataset):
        """The :class:`~topoequi.loader.DeviceLoader` of ``dataset`` when batches are built on the device."""
        from topoequi.loader.device_loader import device_loader_or_none

        path = self.config.data_path
        if path == "loader" or (path == "auto" and self.device.type != "cuda"):
            return None
        key = id(dataset)
        if key not in self._device_loaders:
            try:
                self._device_loaders[key] = device_loader_or_none(dataset, self.device)
            except TypeError:  # not an InMemoryDataset: the DataLoader it is
                self._device_loaders[key] = None
        return self._device_loaders[key]

    def _batches(self, dataset, order: list[int], batch_size: int):
        """Consecutive batches of ``batch_size`` graphs of ``dataset`` taken in ``order``."""
        from torch.utils.data import Subset
        from torch_geometric.loader import DataLoader

        loader = self._device_loader(dataset)
        if loader is not None:
            return loader.batches(order, batch_size)
        return DataLoader(Subset(dataset, order), batch_size=batch_size, pin_memory=self.device.type == "cuda")

    def _train_loader(self, epoch: int):
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(self.train_set, num_replicas=self.world.size,
                                     rank=self.world.rank, shuffle=True, seed=self.config.seed)
        sampler.set_epoch(epoch)
        return self._batches(self.train_set, list(sampler), self.config.batch_size // self.world.size)

    def _bar(self, iterable, desc: str):
        return progress_bar(iterable, self.config.progress and self.world.is_main, desc=desc, leave=False)

    def forward(self, batch):
        """The model's output on ``batch`` (moved to the device), under the run's precision."""
        with autocast(self.device, self.config.precision):
            return _float32(self.network(to_device(batch, self.device)))

    def evaluate(self, dataset, desc: str = "eval") -> dict[str, float]:
        """Per-sample metrics averaged over ``dataset`` (split over the ranks, no padding)."""
        shard = list(range(self.world.rank, len(dataset), self.world.size))
        loader = self._batches(dataset, shard, self.config.batch_size)
        zero = torch.zeros(1, dtype=torch.float64, device=self.device)
        sums: dict[str, Tensor] = {}
        count = zero.clone()
        self.model.eval()
        with torch.no_grad():
            for batch in self._bar(loader, desc):
                batch = to_device(batch, self.device)
                out = self.forward(batch)
                for name, values in self.metrics_fn(out, batch).items():
                    sums[name] = sums.get(name, zero) + values.double().sum()
                count += batch.num_graphs
        names = sorted(sums) if sums else self._metric_names()
        totals = self.world.sum(torch.cat([sums.get(n, zero) for n in names] + [count]))
        totals = totals.cpu()  # the one host read of the evaluation
        return {n: float(totals[i] / totals[-1]) for i, n in enumerate(names)}

    def _metric_names(self) -> list[str]:
        from torch_geometric.loader import DataLoader

        batch = to_device(next(iter(DataLoader(self.valid_set, batch_size=1))), self.device)
        self.model.eval()
        with torch.no_grad():
            return sorted(self.metrics_fn(self.forward(batch), batch))

    # ------------------------------------------------------------------ loop
    def fit(self, resume: bool = False, overwrite: bool = False) -> list[dict]:
        """Run the remaining epochs; return the history (one dict per epoch).

        A folder that holds a run is refused unless ``resume`` (continue it) or ``overwrite``.
        """
        if resume:
            self.load(self.out_dir / "last.pt")
        elif self.out_dir is not None and (self.out_dir / "last.pt").exists() and not overwrite:
            raise FileExistsError(f"Trainer: {self.out_dir} already holds a run; pass resume=True "
                                  "(--resume) to continue it or choose another output folder")
        for epoch in range(self.epoch, 0 if self.stopped else self.config.epochs):
            self._fit_epoch(epoch)
            if self.stopped:
                break
        if self.logger is not None:
            plot_curves(self.history, self.out_dir / "curves.png", self.config.monitor)
            self.logger.close()
        return self.history

    def _fit_epoch(self, epoch: int) -> None:
        start = time.perf_counter()
        if self.epoch_start is not None:
            self.epoch_start(self, epoch)
        train_loss = self._train_epoch(epoch)
        valid = (self.validate(self) if self.validate is not None else
                 {f"valid_{k}": v for k, v in self.evaluate(self.valid_set, desc="valid").items()})
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, **valid,
               "seconds": time.perf_counter() - start}
        self.history.append(row)
        self.epoch = epoch + 1
        if self._improves(row.get(self.config.monitor, math.nan)):
            self.best, self.best_epoch = row[self.config.monitor], self.epoch
            self.save("best.pt")
        patience = self.config.patience
        self.stopped = patience is not None and self.epoch - self.best_epoch >= patience
        self.save("last.pt")
        if self.logger is not None:
            self.logger.log(self.history, self.config.epochs)
        for callback in self.callbacks:
            callback(self, row)

    def _train_epoch(self, epoch: int) -> float:
        self.network.train()
        total = torch.zeros(2, dtype=torch.float64, device=self.device)
        batches = self.train_batches(self, epoch) if self.train_batches else self._train_loader(epoch)
        bar = self._bar(batches, f"epoch {epoch + 1}/{self.config.epochs}")
        for batch in bar:
            batch = to_device(batch, self.device)
            self.optimizer.zero_grad()
            losses = self.loss_fn(self.forward(batch), batch)
            losses.mean().backward()
            if self.config.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            self.steps += 1
            total[0] += losses.detach().double().sum()
            total[1] += losses.numel()
            if not bar.disable and self.steps % 25 == 0:  # the only host read of a step, and only on a terminal
                bar.set_postfix(loss=f"{float(total[0] / total[1]):.4f}")
        total = self.world.sum(total).cpu()
        if not math.isfinite(float(total[0])):
            raise FloatingPointError(f"Trainer: non-finite training loss in epoch {epoch + 1}; "
                                     "last.pt still holds the previous epoch")
        return float(total[0] / total[1])

    # ------------------------------------------------------------ state, files
    def state(self) -> dict:
        return {"config": dict(self.identity), "epoch": self.epoch, "best": self.best,
                "best_epoch": self.best_epoch, "steps": self.steps, "stopped": self.stopped,
                "model": {k: v.cpu() for k, v in self.model.state_dict().items()},
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "history": self.history, "rng": rng_state(),
                "train": {k: v for k, v in vars(self.config).items() if k not in ("device", "progress", "echo")}}

    def save(self, name: str) -> None:
        """Write :meth:`state` to ``out_dir / name`` (main process; the others wait)."""
        if self.out_dir is None:
            return
        state = self.state()  # every rank takes it, so the random streams stay in step
        if self.world.is_main:
            atomic_save(state, self.out_dir / name)
        if self.world.size > 1:
            dist.barrier()

    def load(self, path: str | os.PathLike) -> None:
        """Restore everything :meth:`state` saved (identity and loop settings checked first)."""
        ckpt = load_checkpoint(path, expected_config=self.identity)
        saved = ckpt.get("train", {})
        fixed = ["batch_size", "lr", "weight_decay", "grad_clip", "seed"]
        if self.scheduler is not None:  # a schedule depends on the number of epochs
            fixed.append("epochs")
        for key in fixed:
            if key in saved and saved[key] != getattr(self.config, key):
                raise ValueError(f"checkpoint '{path}' was written with {key}={saved[key]!r}, "
                                 f"requested {getattr(self.config, key)!r}")
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        self.history = list(ckpt["history"])
        self.best, self.epoch = float(ckpt["best"]), int(ckpt["epoch"])
        self.best_epoch = int(ckpt.get("best_epoch", 0))
        self.steps, self.stopped = int(ckpt.get("steps", 0)), bool(ckpt.get("stopped", False))
        set_rng_state(ckpt["rng"])
