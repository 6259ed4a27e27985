"""Input validation shared by the radius and k-NN searches.

Every check raises a ``TypeError`` (wrong type or dtype) or ``ValueError``
(wrong value or shape) whose message starts with the function name and names
the offending argument, so bad input never surfaces as a crash deep inside a
kernel or as a silent NaN.
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

FLOWS = ("source_to_target", "target_to_source")


def check_points(fn: str, name: str, x: object) -> Tensor:
    """``x`` must be a finite floating-point tensor of shape ``[N, D]``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: '{name}' must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{fn}: '{name}' must be 2-D [num_points, num_dims], "
                         f"got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{fn}: '{name}' must have a floating-point dtype, got {x.dtype}")
    if x.numel() > 0 and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{fn}: '{name}' contains NaN or infinite coordinates")
    return x


def check_same_space(fn: str, x: Tensor, y: Tensor) -> None:
    """``x`` and ``y`` must share dtype, device and number of columns."""
    if x.dtype != y.dtype:
        raise TypeError(f"{fn}: 'x' and 'y' must have the same dtype, got {x.dtype} and {y.dtype}")
    if x.device != y.device:
        raise ValueError(f"{fn}: 'x' and 'y' must be on the same device, "
                         f"got {x.device} and {y.device}")
    if x.size(1) != y.size(1):
        raise ValueError(f"{fn}: 'x' and 'y' must have the same number of columns, "
                         f"got {x.size(1)} and {y.size(1)}")


def check_batch(fn: str, name: str, batch: Tensor | None, points: Tensor,
                batch_size: int | None) -> Tensor:
    """A sorted, non-negative integer vector with one entry per point (zeros if ``None``)."""
    if batch is None:
        return torch.zeros(points.size(0), dtype=torch.long, device=points.device)
    if not isinstance(batch, Tensor):
        raise TypeError(f"{fn}: '{name}' must be a torch.Tensor or None, got {type(batch).__name__}")
    if batch.dtype.is_floating_point or batch.dtype.is_complex or batch.dtype == torch.bool:
        raise TypeError(f"{fn}: '{name}' must have an integer dtype, got {batch.dtype}")
    if batch.dim() != 1 or batch.numel() != points.size(0):
        raise ValueError(f"{fn}: '{name}' must be 1-D with one entry per point "
                         f"({points.size(0)}), got shape {tuple(batch.shape)}")
    if batch.device != points.device:
        raise ValueError(f"{fn}: '{name}' is on {batch.device} but the points are on "
                         f"{points.device}; move it with .to(device)")
    batch = batch.long()
    if batch.numel() > 0:
        if int(batch.min()) < 0:
            raise ValueError(f"{fn}: '{name}' must be non-negative")
        if batch.numel() > 1 and not bool((batch[1:] >= batch[:-1]).all()):
            raise ValueError(f"{fn}: '{name}' must be sorted in non-decreasing order "
                             f"(as PyG's Batch produces it); sort the points by example first")
        if batch_size is not None and int(batch.max()) >= batch_size:
            raise ValueError(f"{fn}: '{name}' has example {int(batch.max())} "
                             f">= batch_size={batch_size}")
    return batch


def check_batch_size(fn: str, batch_size: int | None) -> None:
    if batch_size is not None and (not _is_int(batch_size) or batch_size < 1):
        raise ValueError(f"{fn}: 'batch_size' must be a positive int or None, got {batch_size!r}")


def check_radius(fn: str, r: object) -> float:
    if isinstance(r, bool) or not isinstance(r, numbers.Real):
        raise TypeError(f"{fn}: 'r' must be a real number, got {type(r).__name__}")
    r = float(r)
    if not math.isfinite(r) or r < 0:
        raise ValueError(f"{fn}: 'r' must be finite and >= 0, got {r}")
    return r


def check_k(fn: str, k: object) -> int:
    if not _is_int(k):
        raise TypeError(f"{fn}: 'k' must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"{fn}: 'k' must be >= 1, got {k}")
    return int(k)


def check_max_num_neighbors(fn: str, value: object) -> int | None:
    if value is None:
        return None
    if not _is_int(value):
        raise TypeError(f"{fn}: 'max_num_neighbors' must be an int or None, "
                        f"got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{fn}: 'max_num_neighbors' must be >= 1 (or None for no cap), got {value}")
    return int(value)


def check_flow(fn: str, flow: object) -> str:
    if flow not in FLOWS:
        raise ValueError(f"{fn}: 'flow' must be one of {FLOWS}, got {flow!r}")
    return flow


def check_flag(fn: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{fn}: '{name}' must be a bool, got {type(value).__name__}")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
