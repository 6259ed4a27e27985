"""LocalHomologySheafConv: the update rule, permutation equivariance,
persistent-sheaf gradients."""
import pytest
import torch

from topoequi.nn.conv import (
    LocalHomologySheafAttention,
    LocalHomologySheafConv,
    NeuralSheafDiffusionConv,
)
from topoequi.topology import clique_complex, permute_complex, sheaf_laplacian
from topoequi.transforms import AddLocalHomologySheaf


def test_update_rule_is_x_minus_laplacian(complex_with_sheaf):
    torch.manual_seed(0)
    cx = complex_with_sheaf()
    conv = LocalHomologySheafConv(4, 3, normalize=False, act=None).double()
    with torch.no_grad():
        conv.left.copy_(torch.randn(3, 3))
        conv.right.copy_(torch.randn(4, 4))
    x = torch.randn(cx.num_nodes, 3, 4, dtype=torch.float64)
    lap = sheaf_laplacian(cx.edges, cx.restriction.double(), cx.num_nodes).to_dense()
    y = (conv.left @ x @ conv.right).reshape(-1, 4)
    expected = x - (lap @ y).reshape_as(x)
    assert torch.allclose(conv(x, cx.edges.t(), cx.restriction.double()), expected, atol=1e-12)
    # normalised: D^{-1/2} L D^{-1/2}
    conv.normalize = True
    norm = sheaf_laplacian(cx.edges, cx.restriction.double(), cx.num_nodes, normalized=True).to_dense()
    assert torch.allclose(conv(x, cx.edges.t(), cx.restriction.double()), x - (norm @ y).reshape_as(x), atol=1e-12)
    # augmented: (D + I)^{-1/2} L (D + I)^{-1/2}, D the diagonal of L (padding coordinates: D = 0, rows 0)
    conv.augmented = True
    inv = (lap.diagonal() + 1).rsqrt()
    aug = inv[:, None] * lap * inv[None, :]
    assert torch.allclose(conv(x, cx.edges.t(), cx.restriction.double()), x - (aug @ y).reshape_as(x), atol=1e-12)
    assert not torch.allclose(aug, norm, atol=1e-3)


def test_epsilon_weights_the_residual_per_stalk_coordinate(complex_with_sheaf):
    torch.manual_seed(0)
    cx = complex_with_sheaf()
    res = cx.restriction.double()
    x = torch.randn(cx.num_nodes, 3, 4, dtype=torch.float64)
    plain = LocalHomologySheafConv(4, 3).double()
    conv = LocalHomologySheafConv(4, 3, epsilon=True).double()
    assert conv.eps.shape == (3, 1) and torch.equal(conv.eps, torch.zeros(3, 1, dtype=torch.float64))
    assert torch.equal(conv(x, cx.edges.t(), res), plain(x, cx.edges.t(), res))      # eps = 0: X - sigma(L X)
    with torch.no_grad():
        conv.eps.copy_(torch.tensor([[0.5], [-1.0], [2.0]]))
    scale = 1 + torch.tanh(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    expected = scale[None, :, None] * x + (plain(x, cx.edges.t(), res) - x)
    assert torch.allclose(conv(x, cx.edges.t(), res), expected, atol=1e-12)
    att = LocalHomologySheafAttention(4, 3, epsilon=True).double()
    with torch.no_grad():
        att.eps.fill_(1.0)
    ref = LocalHomologySheafAttention(4, 3).double()
    ref.load_state_dict({k: v for k, v in att.state_dict().items() if k != "eps"})
    assert torch.allclose(att(x, cx.edges.t(), res), ref(x, cx.edges.t(), res) + torch.tanh(torch.tensor(1.0)) * x,
                          atol=1e-12)
    assert NeuralSheafDiffusionConv(4, 3, epsilon=True).eps.shape == (3, 1)


@pytest.mark.parametrize("cls", [LocalHomologySheafConv, LocalHomologySheafAttention, NeuralSheafDiffusionConv])
def test_diffusion_dropout_keeps_the_residual(cls, complex_with_sheaf):
    torch.manual_seed(0)
    cx = complex_with_sheaf()
    res = cx.restriction.double()
    x = torch.randn(cx.num_nodes, 3, 4, dtype=torch.float64)
    conv = cls(4, 3, epsilon=True, diffusion_dropout=1.0).double()
    with torch.no_grad():
        conv.eps.fill_(0.5)
    # p = 1 in training: the Laplacian term sees zeros, sigma(0) = 0, only (1 + tanh eps) X remains
    assert torch.allclose(conv.train()(x, cx.edges.t(), res), (1 + torch.tanh(torch.tensor(0.5))) * x, atol=1e-12)
    plain = cls(4, 3, epsilon=True).double()
    plain.load_state_dict(conv.state_dict())
    assert torch.equal(conv.eval()(x, cx.edges.t(), res), plain.eval()(x, cx.edges.t(), res))   # identity in eval
    if cls is NeuralSheafDiffusionConv:      # its maps are learned from the undropped X
        return
    half = cls(4, 3, diffusion_dropout=0.5).double().train()
    half.load_state_dict({k: v for k, v in plain.state_dict().items() if k != "eps"})
    torch.manual_seed(1)
    out = half(x, cx.edges.t(), res)
    torch.manual_seed(1)
    dropped = torch.nn.functional.dropout(x, 0.5)
    ref = cls(4, 3).double().eval()
    ref.load_state_dict(half.state_dict())
    # X - sigma(Delta W_1 dropout(X) W_2): the plain layer's Laplacian term on the dropped X, the undropped residual
    assert torch.allclose(out, x + (ref(dropped, cx.edges.t(), res) - dropped), atol=1e-12)


def test_padding_coordinates_pass_through(complex_with_sheaf):
    cx = complex_with_sheaf(d=4)
    conv = LocalHomologySheafConv(2, 4).double()
    x = torch.randn(cx.num_nodes, 4, 2, dtype=torch.float64)
    out = conv(x, cx.edges.t(), cx.restriction.double())
    unused = ~cx.vertex_mask
    assert unused.any()
    assert torch.equal(out[unused], x[unused])


@pytest.mark.parametrize("persistent", [False, True])
def test_permutation_equivariance(persistent, complex_with_sheaf):
    torch.manual_seed(1)
    cx = complex_with_sheaf(n=16, p=0.35, seed=2)
    conv = LocalHomologySheafConv(3, 3, persistent=persistent).double()
    with torch.no_grad():
        conv.left.add_(0.3 * torch.randn(3, 3))
    x = torch.randn(cx.num_nodes, 3, 3, dtype=torch.float64)
    perm = torch.randperm(cx.num_nodes)
    new = permute_complex(cx, perm)
    out = conv(x, cx.edges.t(), cx.restriction.double(), cx.triangles)
    out_perm = conv(x[perm], new.edges.t(), new.restriction.double(), new.triangles)
    err = (out[perm] - out_perm).abs().max().item()
    assert err < 1e-12, err


def test_persistent_gradients_match_finite_differences(complex_with_sheaf):
    cx = complex_with_sheaf(n=10, p=0.45, seed=3)
    conv = LocalHomologySheafConv(2, 3, persistent=True).double()
    x = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(cx.num_nodes, 3, 2, dtype=torch.float64)

    # gradient w.r.t. the features (through the weights |x_u - x_v| and the maps) and the scale
    torch.autograd.gradcheck(lambda x: (conv(x, cx.edges.t(), triangles=cx.triangles) * probe).sum(), (x,),
                             eps=1e-6, atol=1e-5)
    scale = conv.scale
    (conv(x, cx.edges.t(), triangles=cx.triangles) * probe).sum().backward()
    g = scale.grad.item()
    h = 1e-6
    with torch.no_grad():
        scale += h
        up = (conv(x, cx.edges.t(), triangles=cx.triangles) * probe).sum().item()
        scale -= 2 * h
        down = (conv(x, cx.edges.t(), triangles=cx.triangles) * probe).sum().item()
        scale += h
    assert abs(g - (up - down) / (2 * h)) < 1e-6 * max(1.0, abs(g))


def test_bad_input(complex_with_sheaf):
    cx = complex_with_sheaf()
    conv = LocalHomologySheafConv(4, 3)
    with pytest.raises(ValueError, match="LocalHomologySheafConv: x must have shape"):
        conv(torch.randn(cx.num_nodes, 12), cx.edges.t(), cx.restriction)
    with pytest.raises(ValueError, match="LocalHomologySheafConv: restriction \\(\\[E, 2, d, d\\]\\) is required"):
        conv(torch.randn(cx.num_nodes, 3, 4), cx.edges.t())
    with pytest.raises(ValueError, match="LocalHomologySheafConv: restriction must have shape"):
        conv(torch.randn(cx.num_nodes, 3, 4), cx.edges.t(), cx.restriction[:, :, :2, :2])
    with pytest.raises(ValueError, match="persistent=True needs triangles"):
        LocalHomologySheafConv(4, 3, persistent=True)(torch.randn(cx.num_nodes, 3, 4), cx.edges.t())
    with pytest.raises(ValueError, match="LocalHomologySheafConv: channels"):
        LocalHomologySheafConv(0, 3)
    with pytest.raises(ValueError, match="LocalHomologySheafConv: augmented=True needs normalize=True"):
        LocalHomologySheafConv(4, 3, normalize=False, augmented=True)


@pytest.mark.parametrize("persistent", [False, True])
def test_graph_without_edges_is_left_unchanged(persistent):
    cx = AddLocalHomologySheaf(stalk_width=2)(clique_complex(torch.zeros(2, 0, dtype=torch.long), 4))
    assert cx.vertex_dims.tolist() == [[1, 0, 0]] * 4          # isolated vertices: H_0 = R
    conv = LocalHomologySheafConv(3, 2, persistent=persistent)
    x = torch.randn(4, 2, 3)
    assert torch.equal(conv(x, cx.edges.t(), cx.restriction, cx.triangles), x)
