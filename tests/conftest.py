"""Fixtures shared by the test suite."""
import pytest
import torch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                 reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Every available device: the CPU always, the first GPU where there is one (skipped elsewhere)."""
    return torch.device(request.param)


@pytest.fixture
def other_device(device) -> torch.device:
    """The device a checkpoint written on ``device`` is loaded on: the other one where there are two."""
    return torch.device("cuda" if device.type == "cpu" and torch.cuda.is_available() else "cpu")
