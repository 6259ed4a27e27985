"""Fixtures shared by the radius / k-NN graph tests."""
import importlib

import pytest
import torch

from topoequi.graph import candidates


def _sorted_batch(sizes) -> torch.Tensor:
    return torch.cat([torch.full((n,), b, dtype=torch.long) for b, n in enumerate(sizes)])


@pytest.fixture(scope="session")
def sorted_batch():
    """``sorted_batch([3, 0, 2])``: the sorted batch vector of examples of these sizes (``[0, 0, 0, 2, 2]``)."""
    return _sorted_batch


@pytest.fixture(params=["all_pairs", "grid"])
def method(request, monkeypatch):
    """Force the exhaustive or the cell-grid candidate generator, with tiny chunks (several per call)."""
    limit = 1 << 40 if request.param == "all_pairs" else 0
    for name in ("radius", "knn"):
        monkeypatch.setattr(importlib.import_module(f"topoequi.graph.{name}"), "BRUTE_FORCE_PAIRS", limit)
    monkeypatch.setattr(candidates, "CHUNK_PAIRS", 4096)
    return request.param
