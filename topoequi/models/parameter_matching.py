"""Baselines with the parameter count of the model they are compared with."""
from __future__ import annotations

import math
from collections.abc import Callable


def match_scale(count: Callable[[float], int], target: int, low: float = 0.1, high: float = 64.0,
                steps: int = 40) -> float:
    """The scale ``s`` in ``[low, high]`` whose ``count(s)`` (non-decreasing in ``s``) is closest to ``target``,
    by bisection in log scale."""
    for _ in range(steps):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if count(mid) < target else (low, mid)
    return min((low, high), key=lambda s: abs(count(s) - target))
