"""Layers built from layers, initialised once, by ``reset_parameters()`` at the end of ``__init__``."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def drawn_again_by_reset() -> Iterator[None]:
    """Build sublayers whose initialisation the parent's ``reset_parameters()`` repeats.

    Sublayers initialise themselves when built, as torch's do. Inside this block their random
    draws come from a copy of the random state, so the parent's ``reset_parameters()`` at the end
    of its ``__init__`` draws the same numbers, in the same order, from the real one: building the
    layer consumes the draws of one initialisation, and ``torch.manual_seed(s); Layer(...)`` gives
    the parameters of ``torch.manual_seed(s); layer.reset_parameters()``.
    """
    with torch.random.fork_rng(devices=[]):
        yield
