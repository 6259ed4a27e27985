"""LocalHomologySheafAttention: coefficients, update rule, permutation equivariance, gradients."""
import pytest
import torch

from topoequi.nn.conv import LocalHomologySheafAttention
from topoequi.nn.conv.local_homology_sheaf_conv import laplacian_blocks
from topoequi.topology import permute_complex


def reference(att, x, edges, res):
    """The layer written out one directed edge at a time (scores, softmax, messages)."""
    y = att.left @ x @ att.right
    terms, scores, targets = [], [], []
    for e, (u, v) in enumerate(edges.tolist()):
        for i, j, fi, fj in ((v, u, res[e, 1], res[e, 0]), (u, v, res[e, 0], res[e, 1])):
            own, cross = fi.T @ fi @ y[i], fi.T @ fj @ y[j]
            scores.append((att.att[0] * own).sum() + (att.att[1] * cross).sum())
            terms.append(own - cross)
            targets.append(i)
    scores = torch.nn.functional.leaky_relu(torch.stack(scores), att.negative_slope)
    out = torch.zeros_like(x)
    for i in set(targets):
        idx = [k for k, t in enumerate(targets) if t == i]
        alpha = torch.softmax(scores[idx], 0)
        out[i] = sum(a * terms[k] for a, k in zip(alpha, idx))
    return x - att.act(out)


@pytest.mark.parametrize("zero_attention", [True, False])
def test_layer_matches_edge_by_edge_reference(zero_attention, complex_with_sheaf):
    # with a = 0 all neighbours get 1 / deg: the random-walk sheaf Laplacian D_deg^{-1} L
    torch.manual_seed(2)
    cx = complex_with_sheaf(n=15, p=0.35, seed=5)
    att = LocalHomologySheafAttention(2, 3).double()
    with torch.no_grad():
        att.left.add_(0.3 * torch.randn(3, 3))
        if zero_attention:
            att.att.zero_()
    x = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)
    res = cx.restriction.double()
    assert torch.allclose(att(x, cx.edges.t(), res), reference(att, x, cx.edges, res), atol=1e-12)


def test_coefficients_sum_to_one_per_vertex(complex_with_sheaf):
    cx = complex_with_sheaf(n=12, p=0.4, seed=6)
    att = LocalHomologySheafAttention(2, 3).double()
    y = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)
    edge_index, own, cross, _ = laplacian_blocks(cx.edges, cx.restriction.double(), cx.num_nodes, False)
    probe = att.att @ y.transpose(-1, -2).unsqueeze(1)
    alpha = att.edge_updater(edge_index, probe_t=probe[:, 0], probe_s=probe[:, 1], own=own, cross=cross)
    sums = torch.zeros(cx.num_nodes, dtype=torch.float64).index_add_(0, edge_index[1], alpha)
    has_edge = torch.bincount(edge_index[1], minlength=cx.num_nodes) > 0
    assert torch.allclose(sums[has_edge], torch.ones(int(has_edge.sum()), dtype=torch.float64))
    assert (alpha > 0).all()


@pytest.mark.parametrize("persistent", [False, True])
def test_permutation_equivariance(persistent, complex_with_sheaf):
    torch.manual_seed(3)
    cx = complex_with_sheaf(n=16, p=0.35, seed=7)
    att = LocalHomologySheafAttention(3, 3, persistent=persistent).double()
    x = torch.randn(cx.num_nodes, 3, 3, dtype=torch.float64)
    perm = torch.randperm(cx.num_nodes)
    new = permute_complex(cx, perm)
    out = att(x, cx.edges.t(), cx.restriction.double(), cx.triangles)
    out_perm = att(x[perm], new.edges.t(), new.restriction.double(), new.triangles)
    assert (out[perm] - out_perm).abs().max().item() < 1e-12


def test_persistent_attention_gradients_match_finite_differences(complex_with_sheaf):
    cx = complex_with_sheaf(n=10, p=0.45, seed=8)
    att = LocalHomologySheafAttention(2, 3, persistent=True).double()
    x = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)
    torch.autograd.gradcheck(lambda x: (att(x, cx.edges.t(), triangles=cx.triangles) * probe).sum(), (x,),
                             eps=1e-6, atol=1e-5)


def test_bad_input(complex_with_sheaf):
    cx = complex_with_sheaf()
    with pytest.raises(ValueError, match="LocalHomologySheafAttention: x must have shape"):
        LocalHomologySheafAttention(2, 3)(torch.randn(cx.num_nodes, 6), cx.edges.t(), cx.restriction)
