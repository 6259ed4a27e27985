"""Shared measurement helpers for the benchmark scripts: warm-up + median timing, peak RSS.

Peak memory is read from the kernel: ``ru_maxrss`` (the process's resident
high-water mark, KiB on Linux) and, where Linux allows it, ``VmHWM`` of
``/proc/self/status`` after resetting it with ``echo 5 > /proc/self/clear_refs``,
which isolates the peak of one phase (e.g. the timed iterations) from earlier
ones (imports, data loading, building a model).
"""
from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

CLEAR_REFS = "/proc/self/clear_refs"
STATUS = "/proc/self/status"


@dataclass
class Timing:
    """Seconds per call of the timed repeats (after warm-up) and their median."""

    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_calls(fn: Callable[[], object], repeats: int = 5, warmup: int = 2) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed (``perf_counter``)."""
    if repeats < 1:
        raise ValueError(f"time_calls: repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return Timing(seconds)


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int = 5,
                     warmup: int = 2, clock: Callable[[], float] = time.perf_counter) -> dict[str, Timing]:
    """Time several callables round-robin (one call of each per round), so that the load of a
    shared machine drifts over all of them alike; ``warmup`` untimed rounds first. ``clock``:
    ``time.perf_counter`` (wall) or ``time.process_time`` (CPU time of this process)."""
    if repeats < 1:
        raise ValueError(f"time_interleaved: repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            fn()
            seconds[name].append(clock() - start)
    return {name: Timing(s) for name, s in seconds.items()}


def max_rss_mib() -> float:
    """The process's peak resident set size so far (``getrusage(RUSAGE_SELF).ru_maxrss``), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _status_kib(field: str) -> float | None:
    try:
        with open(STATUS) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float | None:
    """The current resident set size (``VmRSS``), MiB; ``None`` off Linux."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024.0


def reset_peak_rss() -> bool:
    """Reset the kernel's resident high-water mark ``VmHWM`` to the current RSS (Linux >= 4.0)."""
    try:
        with open(CLEAR_REFS, "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def peak_rss_since_reset_mib() -> float | None:
    """``VmHWM``, the resident high-water mark since the last :func:`reset_peak_rss`, MiB."""
    kib = _status_kib("VmHWM")
    return None if kib is None else kib / 1024.0
