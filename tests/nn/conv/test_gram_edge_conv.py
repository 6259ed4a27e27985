"""GramEdgeConv: equivariant to relabelling the basis vectors, states of the documented width."""
import pytest
import torch

from topoequi.nn import GramEdgeConv
from topoequi.transforms.lattice_graph import complete_graph_edge_index


def test_gram_edge_conv_is_permutation_equivariant():
    torch.manual_seed(0)
    conv = GramEdgeConv(8).double()
    n = 5
    x = torch.randn(n, 8, dtype=torch.float64)
    dense = torch.randn(n, n, 8, dtype=torch.float64)
    off = ~torch.eye(n, dtype=torch.bool)
    ei = complete_graph_edge_index(1, n)
    out_x, out_e = conv(x, ei, dense[off])
    perm = torch.randperm(n)
    px, pe = conv(x[perm], ei, dense[perm][:, perm][off])
    dense_out = torch.zeros_like(dense)
    dense_out[off] = out_e
    assert (px - out_x[perm]).abs().max() < 1e-12
    assert (pe - dense_out[perm][:, perm][off]).abs().max() < 1e-12
    with pytest.raises(ValueError, match="GramEdgeConv"):
        conv(x[:, :4], ei, dense[off])
