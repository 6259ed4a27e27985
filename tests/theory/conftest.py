"""Fixtures of the theory tests: spectral norms and small steerable convolutions."""
from functools import cache

import pytest
import torch

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import group_from_name


def _spectral(m: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(m.detach().to(torch.float64), 2))


@cache
def _steerable_conv(group: str, fields_in: int, fields_out: int) -> SteerableImageConv:
    g = group_from_name(group)
    rep_in = g.trivial_rep(1) if fields_in == 0 else regular_field_rep(g, fields_in)
    torch.manual_seed(fields_in + 10 * fields_out)
    return SteerableImageConv(rep_in, regular_field_rep(g, fields_out), 5, bias=False).double()


@pytest.fixture(scope="session")
def spectral():
    """``spectral(m)``: the spectral norm of a matrix, in float64."""
    return _spectral


@pytest.fixture(scope="session")
def steerable_conv():
    """``steerable_conv(group, fields_in, fields_out)``: a bias-free 5x5 SteerableImageConv (float64) between
    regular fields (a trivial input for ``fields_in=0``), built once per arguments."""
    return _steerable_conv
