"""Checkpoints that survive interruption, and reproducible seeds.

A checkpoint is a dict of tensors and plain Python values saved with
``torch.save``; it is written to a temporary file in the same folder and moved
into place with ``os.replace``, so a reader sees either the old or the new
file, never half of one. Loading uses ``weights_only=True`` and maps every
tensor to the CPU, so a checkpoint written on a GPU loads anywhere (the
trainer then moves the weights to its own device).
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from topoequi.files import atomic_write


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` made atomic (:func:`topoequi.files.atomic_write`)."""
    atomic_write(path, lambda f: torch.save(obj, f))


def load_checkpoint(path: str | os.PathLike, expected_config: dict | None = None,
                    map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint saved by :func:`atomic_save` (``weights_only=True``).

    If ``expected_config`` is given, the checkpoint's ``"config"`` entry must
    agree with it on every key it contains, otherwise a ``ValueError`` lists
    the keys that differ (a checkpoint of another model or configuration).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint '{path}' does not exist")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ValueError(f"checkpoint '{path}' is corrupt or not a topoequi checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict):
        raise ValueError(f"checkpoint '{path}' holds a {type(ckpt).__name__}, expected a dict")  # noqa: TRY004
    if expected_config is not None:
        saved = ckpt.get("config", {})
        diff = {k: (saved.get(k), v) for k, v in expected_config.items() if saved.get(k) != v}
        if diff:
            lines = ", ".join(f"{k}: checkpoint={a!r} vs requested={b!r}" for k, (a, b) in diff.items())
            raise ValueError(f"checkpoint '{path}' was written for another configuration ({lines})")
    return ckpt


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def rng_state() -> dict:
    """The state of every random generator, for exact resume.

    Only tensors, ints, strings, floats, tuples and ``None``: it survives
    :func:`atomic_save` and :func:`load_checkpoint` (``weights_only=True``).
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": random.getstate(),
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss),
                      float(cached)),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []}


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    keys = keys.numpy() if isinstance(keys, torch.Tensor) else np.asarray(keys)
    np.random.set_state((kind, keys.astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda", [])
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
