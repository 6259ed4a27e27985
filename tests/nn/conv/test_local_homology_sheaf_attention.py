"""LocalHomologySheafAttention: coefficients, update rule, permutation equivariance, gradients."""
import pytest
import torch

from topoequi.nn.conv import LocalHomologySheafAttention
from topoequi.nn.conv.local_homology_sheaf_conv import directed_blocks

from .test_local_homology_sheaf_conv import complex_with_sheaf, relabel


def test_uniform_attention_is_the_mean_laplacian():
    # with a = 0 all neighbours get 1 / deg: the random-walk sheaf Laplacian D_deg^{-1} L
    cx = complex_with_sheaf(n=15, p=0.35, seed=5)
    att = LocalHomologySheafAttention(2, 3, act=None).double()
    with torch.no_grad():
        att.att.zero_()
    x = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)
    res = cx.restriction.double()
    out = att(x, cx.edges, res)
    edge_index, f_t, f_s = directed_blocks(cx.edges, res)
    deg = torch.bincount(edge_index[1], minlength=cx.num_nodes).double()
    expected = x.clone()
    for k in range(edge_index.size(1)):
        j, i = edge_index[:, k].tolist()
        expected[i] -= f_t[k].T @ (f_t[k] @ x[i] - f_s[k] @ x[j]) / deg[i]
    assert torch.allclose(out, expected, atol=1e-12)


def test_coefficients_sum_to_one_per_vertex():
    cx = complex_with_sheaf(n=12, p=0.4, seed=6)
    att = LocalHomologySheafAttention(2, 3).double()
    x = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)
    edge_index, f_t, f_s = directed_blocks(cx.edges, cx.restriction.double())
    alpha = att.edge_updater(edge_index, x=x, f_target=f_t, f_source=f_s)
    sums = torch.zeros(cx.num_nodes, dtype=torch.float64).index_add_(0, edge_index[1], alpha)
    has_edge = torch.bincount(edge_index[1], minlength=cx.num_nodes) > 0
    assert torch.allclose(sums[has_edge], torch.ones(int(has_edge.sum()), dtype=torch.float64))
    assert (alpha > 0).all()


@pytest.mark.parametrize("persistent", [False, True])
def test_permutation_equivariance(persistent):
    torch.manual_seed(3)
    cx = complex_with_sheaf(n=16, p=0.35, seed=7)
    att = LocalHomologySheafAttention(3, 3, persistent=persistent).double()
    x = torch.randn(cx.num_nodes, 3, 3, dtype=torch.float64)
    perm = torch.randperm(cx.num_nodes)
    new = relabel(cx, perm)
    out = att(x, cx.edges, cx.restriction.double(), cx.triangles)
    out_perm = att(x[perm], new.edges, new.restriction.double(), new.triangles)
    assert (out[perm] - out_perm).abs().max().item() < 1e-12


def test_persistent_attention_gradients_match_finite_differences():
    cx = complex_with_sheaf(n=10, p=0.45, seed=8)
    att = LocalHomologySheafAttention(2, 3, persistent=True).double()
    x = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)
    torch.autograd.gradcheck(lambda x: (att(x, cx.edges, triangles=cx.triangles) * probe).sum(), (x,),
                             eps=1e-6, atol=1e-5)


def test_bad_input():
    cx = complex_with_sheaf()
    with pytest.raises(ValueError, match="LocalHomologySheafAttention: x must have shape"):
        LocalHomologySheafAttention(2, 3)(torch.randn(cx.num_nodes, 6), cx.edges, cx.restriction)
