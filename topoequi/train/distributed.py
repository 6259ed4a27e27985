"""Data-parallel processes: one per GPU on NCCL, or CPU processes on gloo.

``topoequi train qm9 --devices N`` starts them with :func:`spawn`; ``torchrun`` starts them itself and
:func:`init_process_group` joins the group its environment describes. :class:`World` is each process's
place in it, and sums the epoch's totals over the ranks.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from topoequi.train.device import resolve_device


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


def spawn(fn: Callable, nprocs: int, *args, device: str = "cpu") -> None:
    """Run ``fn(*args)`` in ``nprocs`` processes joined in a process group on ``device``
    (one GPU each on NCCL for CUDA, CPU processes on gloo otherwise)."""
    import socket

    import torch.multiprocessing as mp

    if nprocs < 2:
        raise ValueError(f"spawn: nprocs must be at least 2, got {nprocs}")
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(nprocs, port, device, fn, args), nprocs=nprocs, join=True)


def _worker(rank: int, world_size: int, port: int, device: str, fn: Callable, args: tuple) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    init_process_group(device)
    try:
        fn(*args)
    finally:
        dist.destroy_process_group()


def backend_for(device: str | torch.device) -> str:
    """``"nccl"`` for CUDA devices, ``"gloo"`` for the CPU."""
    return "nccl" if resolve_device(device).type == "cuda" else "gloo"


def init_process_group(device: str | torch.device = "auto") -> bool:
    """Join the process group described by the environment (``torchrun``); False if there is none."""
    if int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return False
    if not dist.is_initialized():
        world_size = int(os.environ["WORLD_SIZE"])
        backend = backend_for(device)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        else:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
        dist.init_process_group(backend)
    return True
