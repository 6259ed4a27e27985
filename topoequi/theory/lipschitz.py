r"""Lipschitz constants (in :math:`\ell_2`) of the fixed, positively homogeneous modules between layers."""
from __future__ import annotations

import math

import torch
from torch import nn

from topoequi.nn.group_pooling import GroupPooling
from topoequi.theory.networks import FieldPooling


def _average_pool(module: nn.AvgPool2d, shape: tuple[int, ...]) -> float:
    """Schur test: rows sum to 1, columns to at most :math:`\\lceil k/s \\rceil^2 / k^2`."""
    k, s = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
    if _pair(module.padding) != (0, 0):
        raise ValueError(f"lipschitz: {module!r} must have padding=0")
    overlap = math.ceil(k[0] / s[0]) * math.ceil(k[1] / s[1])
    return math.sqrt(overlap / (k[0] * k[1]))


def _max_pool(module: nn.MaxPool2d, shape: tuple[int, ...]) -> float:
    """Each window's maximum is 1-Lipschitz in the window's sup-norm; an input lies in at most
    :math:`\\lceil k/s \\rceil^2` windows."""
    k, s = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
    if _pair(module.padding) != (0, 0) or _pair(module.dilation) != (1, 1):
        raise ValueError(f"lipschitz: {module!r} must have padding=0 and dilation=1")
    return math.sqrt(math.ceil(k[0] / s[0]) * math.ceil(k[1] / s[1]))


def _global_average(module: nn.AdaptiveAvgPool2d, shape: tuple[int, ...]) -> float:
    if _pair(module.output_size) != (1, 1):
        raise ValueError(f"lipschitz: {module!r} must have output_size=1")
    return 1.0 / math.sqrt(shape[-1] * shape[-2])


def _global_max(module: nn.AdaptiveMaxPool2d, shape: tuple[int, ...]) -> float:
    if _pair(module.output_size) != (1, 1):
        raise ValueError(f"lipschitz: {module!r} must have output_size=1")
    return 1.0


def _group_pooling(module: GroupPooling, shape: tuple[int, ...]) -> float:
    """The maximum over samples is 1-Lipschitz; fields given by coefficients are sampled first."""
    if module.sampled:
        return 1.0
    return float(torch.linalg.matrix_norm(module.sampling.to(torch.float64), 2))


def _pair(v) -> tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


LIPSCHITZ = {
    nn.ReLU: lambda m, shape: 1.0,
    nn.Flatten: lambda m, shape: 1.0,
    nn.Identity: lambda m, shape: 1.0,
    nn.AvgPool2d: _average_pool,
    nn.AdaptiveAvgPool2d: _global_average,
    GroupPooling: _group_pooling,
    nn.MaxPool2d: _max_pool,
    nn.AdaptiveMaxPool2d: _global_max,
    FieldPooling: lambda m, shape: 1.0,
}
"""Module type -> ``f(module, input_shape)``, its Lipschitz constant; every one is positively
homogeneous and maps 0 to 0, as the bound's perturbation lemma needs."""
