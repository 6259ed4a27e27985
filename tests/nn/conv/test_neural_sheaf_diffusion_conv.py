"""NeuralSheafDiffusionConv, the learned-sheaf control: permutation equivariance, orthogonal (Cayley) or
diagonal maps, bad input."""
import pytest
import torch

from topoequi.nn.conv import NeuralSheafDiffusionConv
from topoequi.topology import permute_complex


def test_equivariance_and_orthogonal_maps(complex_with_sheaf):
    torch.manual_seed(2)
    cx = complex_with_sheaf(n=14, p=0.3, seed=4)
    conv = NeuralSheafDiffusionConv(3, 3).double()
    x = torch.randn(cx.num_nodes, 3, 3, dtype=torch.float64)
    maps = conv.sheaf(x, cx.edges, None, None)
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(maps.transpose(-1, -2) @ maps, eye.expand_as(maps), atol=1e-12)
    perm = torch.randperm(cx.num_nodes)
    new = permute_complex(cx, perm)
    out = conv(x, cx.edges.t())
    assert torch.allclose(out[perm], conv(x[perm], new.edges.t()), atol=1e-12)
    diag = NeuralSheafDiffusionConv(3, 3, maps="diagonal").double()
    assert torch.allclose(diag(x, cx.edges.t())[perm], diag(x[perm], new.edges.t()), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="NeuralSheafDiffusionConv: maps"):
        NeuralSheafDiffusionConv(2, 2, maps="general")
