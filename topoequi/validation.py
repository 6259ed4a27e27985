"""When layers check the values of their inputs (not only shapes and types).

A value check (no NaN, indices in range) reads a result back to the host. On
the CPU that costs nothing, so it always runs; on an accelerator it would stop
the stream at every layer, so it runs only in debug mode, as PyG leaves such
checks to the user: ``TOPOEQUI_DEBUG=1`` in the environment, or
:func:`set_debug`.
"""
from __future__ import annotations

import os

from torch import Tensor

_debug = os.environ.get("TOPOEQUI_DEBUG", "") not in ("", "0")


def set_debug(enabled: bool) -> None:
    """Check input values on every device (``True``) or on the CPU only (``False``, the default)."""
    global _debug
    _debug = bool(enabled)


def check_values(tensor: Tensor) -> bool:
    """Whether the values of ``tensor`` are to be checked: on the CPU, or in debug mode."""
    return _debug or tensor.device.type == "cpu"
