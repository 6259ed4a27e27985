"""Lipschitz constants of the modules between layers: values, their bounds on random pairs, refused pools."""
import math

import pytest
import torch
from torch import nn

from topoequi.theory.lipschitz import LIPSCHITZ
from topoequi.theory.networks import FieldPooling


def test_max_pooling_lipschitz_constants():
    assert LIPSCHITZ[nn.MaxPool2d](nn.MaxPool2d(2), (3, 8, 8)) == 1.0
    assert LIPSCHITZ[nn.MaxPool2d](nn.MaxPool2d(3, stride=2), (3, 9, 9)) == 2.0  # inputs in up to 4 windows
    assert LIPSCHITZ[nn.AdaptiveMaxPool2d](nn.AdaptiveMaxPool2d(1), (3, 5, 5)) == 1.0
    with pytest.raises(ValueError, match="must have padding=0"):
        LIPSCHITZ[nn.MaxPool2d](nn.MaxPool2d(2, padding=1), (3, 8, 8))
    # the Lipschitz constant holds: |pool(a) - pool(b)| <= L |a - b| on random pairs
    gen = torch.Generator().manual_seed(5)
    a, b = torch.randn(200, 1, 9, 9, generator=gen), torch.randn(200, 1, 9, 9, generator=gen)
    pool = nn.MaxPool2d(3, stride=2)
    ratio = (pool(a) - pool(b)).flatten(1).norm(dim=1) / (a - b).flatten(1).norm(dim=1)
    assert ratio.max() <= 2.0 and ratio.max() > 0.3


def test_average_pooling_lipschitz_constants():
    assert LIPSCHITZ[nn.AvgPool2d](nn.AvgPool2d(2), (3, 8, 8)) == pytest.approx(0.5)  # sqrt(1 / 4)
    assert LIPSCHITZ[nn.AvgPool2d](nn.AvgPool2d(3, stride=2), (3, 9, 9)) == pytest.approx(math.sqrt(4 / 9))
    assert LIPSCHITZ[nn.AdaptiveAvgPool2d](nn.AdaptiveAvgPool2d(1), (3, 5, 5)) == pytest.approx(0.2)
    assert LIPSCHITZ[nn.ReLU](nn.ReLU(), (3, 5, 5)) == LIPSCHITZ[FieldPooling](FieldPooling((4,)), (4,)) == 1.0
    with pytest.raises(ValueError, match=r"lipschitz: AvgPool2d\(.*\) must have padding=0"):
        LIPSCHITZ[nn.AvgPool2d](nn.AvgPool2d(2, padding=1), (3, 8, 8))
    with pytest.raises(ValueError, match="must have output_size=1"):
        LIPSCHITZ[nn.AdaptiveAvgPool2d](nn.AdaptiveAvgPool2d(2), (3, 5, 5))
    with pytest.raises(ValueError, match="must have output_size=1"):
        LIPSCHITZ[nn.AdaptiveMaxPool2d](nn.AdaptiveMaxPool2d(2), (3, 5, 5))
    # a constant image attains the global average's constant: ||mean|| = ||x|| / sqrt(25)
    x = torch.ones(1, 1, 5, 5, dtype=torch.float64)
    assert float(nn.AdaptiveAvgPool2d(1)(x).norm() / x.norm()) == pytest.approx(0.2)
    gen = torch.Generator().manual_seed(6)
    a, b = torch.randn(200, 1, 9, 9, generator=gen), torch.randn(200, 1, 9, 9, generator=gen)
    pool = nn.AvgPool2d(3, stride=2)
    ratio = (pool(a) - pool(b)).flatten(1).norm(dim=1) / (a - b).flatten(1).norm(dim=1)
    assert ratio.max() <= math.sqrt(4 / 9)
