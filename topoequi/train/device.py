"""Devices and numerical precision of a training run.

``device``: ``"auto"`` (the first CUDA device when there is one, else the CPU), ``"cpu"``,
``"cuda"`` or ``"cuda:N"``. ``precision``:

- ``"float32"``: every matmul in full float32 (TF32 off);
- ``"tf32"``: float32 tensors, matmuls and convolutions on CUDA in TF32 (10-bit mantissa);
- ``"bf16-mixed"``: ``torch.autocast`` to bfloat16 for the matmul-like operations of the forward
  pass; parameters, gradients, optimizer state, losses and metrics stay float32/float64.
"""
from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("float32", "tf32", "bf16-mixed")


def available_devices() -> list[str]:
    """``["cpu", "cuda:0", ...]``: the devices this process can use."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["cpu"] + [f"cuda:{i}" for i in range(count)]


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` that ``spec`` names; a ``ValueError`` naming ``--device`` and listing
    what exists when it does not exist here."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device: expected auto, cpu, cuda or cuda:N, got {spec!r}")
    if device.type == "cuda":
        device = torch.device("cuda", device.index or 0)
        if str(device) not in available_devices():
            raise ValueError(f"--device {spec!r} does not exist here; available: "
                             f"{', '.join(available_devices())}")
    return device


def check_process_count(device: torch.device, processes: int) -> None:
    """``--devices N`` on CUDA needs N GPUs (one process each); on the CPU any N >= 1 is allowed."""
    if processes < 1:
        raise ValueError(f"--devices must be at least 1, got {processes}")
    if device.type == "cuda" and processes > torch.cuda.device_count():
        raise ValueError(f"--devices {processes}: only {torch.cuda.device_count()} CUDA device(s) here; "
                         "use at most that many, or --device cpu for CPU processes")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"--precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def set_matmul_precision(precision: str) -> None:
    """Switch TF32 on for ``"tf32"`` and off otherwise (process-wide, as torch's flags are)."""
    tf32 = check_precision(precision) == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def autocast(device: torch.device, precision: str):
    """The forward-pass context of ``precision``: bfloat16 autocast for ``"bf16-mixed"``, else nothing."""
    if check_precision(precision) != "bf16-mixed":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def describe_devices() -> list[str]:
    """One line per device, for ``topoequi info``."""
    lines = [f"cpu: {torch.get_num_threads()} threads"]
    for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        p = torch.cuda.get_device_properties(i)
        lines.append(f"cuda:{i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, "
                     f"compute capability {p.major}.{p.minor}")
    return lines
