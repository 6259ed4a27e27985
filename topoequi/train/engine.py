"""A generic training loop for PyG datasets: epochs, logging, checkpoints, exact resume, DDP.

:class:`Trainer` owns the loop; a task supplies the model, the datasets and
two per-sample functions (``loss_fn`` for the training loss, ``metrics_fn``
for what is reported). Per epoch it writes a row to ``log.csv`` (and
TensorBoard when installed), ``last.pt`` and, when the monitored validation
metric improves, ``best.pt`` — both atomically. ``fit(resume=True)``
continues from ``last.pt`` exactly: weights, optimizer, scheduler, history
and random generators are restored, and the data order of every epoch is a
function of ``(seed, epoch)`` only.

Distributed data parallel: in a process group (``torchrun``, or
:func:`spawn` for ``--devices N``) every rank trains on its share of each
global batch (``DistributedSampler``); the per-rank batch is
``batch_size // world_size`` so that the global batch, and with it the loss
curve, is the one of a single process.
"""
from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor
from tqdm import tqdm

from topoequi.train.checkpoint import atomic_save, load_checkpoint, rng_state, set_rng_state


@dataclass
class World:
    """This process's place in the process group (``size == 1`` without one)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def current(cls) -> World:
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size())
        return cls()

    def sum(self, values: Tensor) -> Tensor:
        """Sum ``values`` (float64) over all ranks."""
        values = values.detach().double()
        if self.size > 1:
            dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values


@dataclass
class TrainConfig:
    """Settings of the loop itself (the task's own settings go into ``identity``)."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.0
    grad_clip: float | None = 10.0
    seed: int = 0
    monitor: str = "valid_mae"
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig: {name} must be a positive int, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"TrainConfig: lr must be a positive float, got {self.lr!r}")


@dataclass
class Trainer:
    """Train ``model`` on ``train_set``, select on ``valid_set``, write everything to ``out_dir``.

    Args:
        model: maps a PyG ``Batch`` to per-graph outputs.
        train_set, valid_set: PyG datasets (or ``Subset`` views of one).
        loss_fn: ``(output, batch) -> [num_graphs]`` per-sample training loss.
        metrics_fn: ``(output, batch) -> {name: [num_graphs]}`` per-sample
            values, averaged over a dataset and reported as ``valid_<name>``.
        config: the loop settings.
        out_dir: where ``log.csv``, ``last.pt``, ``best.pt``, ``curves.png`` go.
        identity: what a checkpoint must match to be resumed or evaluated
            (model, target, hyper-parameters, ...); checked on load.
        callbacks: called as ``callback(trainer, row)`` after each epoch
            (after the checkpoints are written).
    """

    model: torch.nn.Module
    train_set: object
    valid_set: object
    loss_fn: Callable[[Tensor, object], Tensor]
    metrics_fn: Callable[[Tensor, object], dict[str, Tensor]]
    config: TrainConfig
    out_dir: str | os.PathLike
    identity: dict = field(default_factory=dict)
    callbacks: list[Callable] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.world = World.current()
        if self.config.batch_size % self.world.size:
            raise ValueError(f"Trainer: batch_size {self.config.batch_size} must be divisible by "
                             f"the number of processes {self.world.size}")
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.lr,
                                           weight_decay=self.config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer,
                                                                    T_max=self.config.epochs)
        self.network = self.model
        if self.world.size > 1:
            self.network = torch.nn.parallel.DistributedDataParallel(self.model)
        self.history: list[dict] = []
        self.best = math.inf
        self.epoch = 0
        self._tensorboard = None

    # ------------------------------------------------------------------ data
    def _train_loader(self, epoch: int):
        from torch.utils.data.distributed import DistributedSampler
        from torch_geometric.loader import DataLoader

        sampler = DistributedSampler(self.train_set, num_replicas=self.world.size,
                                     rank=self.world.rank, shuffle=True, seed=self.config.seed)
        sampler.set_epoch(epoch)
        return DataLoader(self.train_set, batch_size=self.config.batch_size // self.world.size,
                          sampler=sampler)

    def evaluate(self, dataset, desc: str = "eval") -> dict[str, float]:
        """Per-sample metrics averaged over ``dataset`` (split over the ranks, no padding)."""
        from torch.utils.data import Subset
        from torch_geometric.loader import DataLoader

        shard = Subset(dataset, list(range(self.world.rank, len(dataset), self.world.size)))
        loader = DataLoader(shard, batch_size=self.config.batch_size)
        sums: dict[str, Tensor] = {}
        count = torch.zeros(1, dtype=torch.float64)
        self.model.eval()
        with torch.no_grad():
            for batch in tqdm(loader, desc=desc, leave=False,
                              disable=not (self.config.progress and self.world.is_main)):
                out = self.model(batch)
                for name, values in self.metrics_fn(out, batch).items():
                    sums[name] = sums.get(name, torch.zeros(1, dtype=torch.float64)) + values.double().sum()
                count += batch.num_graphs
        names = sorted(sums) if sums else [n for n in self._metric_names()]
        totals = self.world.sum(torch.cat([sums.get(n, torch.zeros(1, dtype=torch.float64))
                                           for n in names] + [count]))
        return {n: float(totals[i] / totals[-1]) for i, n in enumerate(names)}

    def _metric_names(self) -> list[str]:
        batch = next(iter(_tiny_loader(self.valid_set)))
        self.model.eval()
        with torch.no_grad():
            return sorted(self.metrics_fn(self.model(batch), batch))

    # ------------------------------------------------------------------ loop
    def fit(self, resume: bool = False) -> list[dict]:
        """Run the remaining epochs; return the history (one dict per epoch)."""
        if resume:
            self.load(self.out_dir / "last.pt")
        elif (self.out_dir / "last.pt").exists():
            raise FileExistsError(f"Trainer: {self.out_dir} already holds a run; pass resume=True "
                                  "(--resume) to continue it or choose another output folder")
        for epoch in range(self.epoch, self.config.epochs):
            start = time.perf_counter()
            train_loss = self._train_epoch(epoch)
            valid = self.evaluate(self.valid_set, desc="valid")
            lr = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
            row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss,
                   **{f"valid_{k}": v for k, v in valid.items()},
                   "seconds": time.perf_counter() - start}
            self.history.append(row)
            self.epoch = epoch + 1
            if row.get(self.config.monitor, math.inf) < self.best:
                self.best = row[self.config.monitor]
                self._save(self.out_dir / "best.pt")
            self._save(self.out_dir / "last.pt")
            self._log(row)
            for callback in self.callbacks:
                callback(self, row)
        if self.world.is_main:
            plot_curves(self.history, self.out_dir / "curves.png", self.config.monitor)
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None
        return self.history

    def _train_epoch(self, epoch: int) -> float:
        self.network.train()
        total = torch.zeros(2, dtype=torch.float64)
        loader = self._train_loader(epoch)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{self.config.epochs}", leave=False,
                   disable=not (self.config.progress and self.world.is_main))
        for batch in bar:
            self.optimizer.zero_grad()
            losses = self.loss_fn(self.network(batch), batch)
            if not torch.isfinite(losses).all():
                raise FloatingPointError(f"Trainer: non-finite loss in epoch {epoch + 1}")
            losses.mean().backward()
            if self.config.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            total += torch.tensor([float(losses.detach().double().sum()), losses.numel()],
                                  dtype=torch.float64)
            bar.set_postfix(loss=f"{float(losses.detach().mean()):.4f}")
        total = self.world.sum(total)
        return float(total[0] / total[1])

    # ------------------------------------------------------------ state, logs
    def state(self) -> dict:
        return {"config": dict(self.identity), "epoch": self.epoch, "best": self.best,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "history": self.history,
                "rng": rng_state(), "train": vars(self.config)}

    def _save(self, path: Path) -> None:
        state = self.state()  # every rank takes it, so the random streams stay in step
        if self.world.is_main:
            atomic_save(state, path)
        if self.world.size > 1:
            dist.barrier()

    def load(self, path: str | os.PathLike) -> None:
        """Restore everything :meth:`state` saved (identity checked first)."""
        ckpt = load_checkpoint(path, expected_config=self.identity)
        saved = ckpt.get("train", {})
        for key in ("epochs", "batch_size", "lr", "weight_decay", "grad_clip", "seed"):
            if key in saved and saved[key] != getattr(self.config, key):
                raise ValueError(f"checkpoint '{path}' was written with {key}={saved[key]!r}, "
                                 f"requested {getattr(self.config, key)!r}")
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.history = list(ckpt["history"])
        self.best, self.epoch = float(ckpt["best"]), int(ckpt["epoch"])
        set_rng_state(ckpt["rng"])

    def _log(self, row: dict) -> None:
        if not self.world.is_main:
            return
        path = self.out_dir / "log.csv"
        rows = self.history  # rewritten whole: after a resume the file matches the history
        with open(path.with_suffix(".csv.tmp"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        os.replace(path.with_suffix(".csv.tmp"), path)
        from topoequi.typing import WITH_TENSORBOARD

        if WITH_TENSORBOARD:
            if self._tensorboard is None:
                from torch.utils.tensorboard import SummaryWriter

                self._tensorboard = SummaryWriter(str(self.out_dir / "tensorboard"))
            for key, value in row.items():
                if key != "epoch":
                    self._tensorboard.add_scalar(key, value, row["epoch"])
            self._tensorboard.flush()


def _tiny_loader(dataset):
    from torch_geometric.loader import DataLoader

    return DataLoader(dataset, batch_size=1)


def plot_curves(history: list[dict], path: str | os.PathLike, monitor: str = "valid_mae") -> None:
    """Training loss and the monitored validation metric against the epoch, as a PNG."""
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [r["train_loss"] for r in history], marker="o")
    ax1.set(xlabel="epoch", ylabel="train loss", yscale="log", title="training loss")
    if monitor in history[0]:
        ax2.plot(epochs, [r[monitor] for r in history], marker="o", color="C1")
    ax2.set(xlabel="epoch", ylabel=monitor, yscale="log", title=monitor)
    fig.tight_layout()
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def spawn(fn: Callable, nprocs: int, *args) -> None:
    """Run ``fn(*args)`` in ``nprocs`` CPU processes joined in a gloo process group."""
    import socket

    import torch.multiprocessing as mp

    if nprocs < 2:
        raise ValueError(f"spawn: nprocs must be at least 2, got {nprocs}")
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(nprocs, port, fn, args), nprocs=nprocs, join=True)


def _worker(rank: int, world_size: int, port: int, fn: Callable, args: tuple) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    init_process_group()
    try:
        fn(*args)
    finally:
        dist.destroy_process_group()


def init_process_group() -> bool:
    """Join the gloo process group described by the environment (``torchrun``); False if none."""
    if int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return False
    if not dist.is_initialized():
        world_size = int(os.environ["WORLD_SIZE"])
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
        dist.init_process_group("gloo")
    return True
