"""SheafNodeClassifier: every variant is permutation equivariant and learns a separable task."""
import pytest
import torch
import torch.nn.functional as F

from topoequi.models.sheaf_node_classifier import VARIANTS, SheafNodeClassifier
from topoequi.topology import clique_complex, permute_complex
from topoequi.transforms import AddLocalHomologySheaf


def with_features(seed=0, n=20):
    g = torch.Generator().manual_seed(seed)
    adj = torch.triu(torch.rand(n, n, generator=g) < 0.3, 1)
    cx = AddLocalHomologySheaf(stalk_width=3)(clique_complex(adj.nonzero().T, n))
    cx.x = torch.randn(cx.num_nodes, 5, generator=g, dtype=torch.float64)
    return AddLocalHomologySheaf(stalk_width=3, weight="features")(cx)


@pytest.mark.parametrize("variant,options", [(v, {}) for v in VARIANTS] + [
    ("conv-constant", {"constant_width": 0, "signed_width": 1, "augmented": True}),
    ("nsd", {"augmented": True}),
])
def test_variants_are_permutation_equivariant(variant, options):
    # the signed coordinate's -1 sits on the larger label of each edge, which relabelling moves
    torch.manual_seed(0)
    cx = with_features()
    cx.restriction = cx.restriction.double()
    model = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, variant=variant, **options).double().eval()
    perm = torch.randperm(cx.num_nodes)
    new = permute_complex(cx, perm)
    new.x = cx.x[perm]
    out, out_perm = model(cx), model(new)
    assert (out[perm] - out_perm).abs().max().item() < 1e-10


def test_fixed_sheaf_from_features_is_canonical():
    # the sheaf built from feature distances on the relabelled graph equals the transported one
    cx = with_features(seed=1)
    perm = torch.randperm(cx.num_nodes, generator=torch.Generator().manual_seed(2))
    moved = permute_complex(cx, perm)
    rebuilt = permute_complex(cx, perm)
    rebuilt.x = cx.x[perm]
    rebuilt = AddLocalHomologySheaf(stalk_width=3, weight="features")(rebuilt)
    # vertex blocks of the Laplacian agree: F^T F and F_u^T F_v per edge
    for a, b in ((0, 0), (1, 1), (0, 1)):
        ga = moved.restriction[:, a].transpose(1, 2) @ moved.restriction[:, b]
        gb = rebuilt.restriction[:, a].transpose(1, 2) @ rebuilt.restriction[:, b]
        assert torch.allclose(ga, gb, atol=1e-6)


@pytest.mark.parametrize("variant", ["conv", "persistent"])
def test_learns_a_feature_separable_task(variant, one_thread):
    torch.manual_seed(0)
    cx = with_features(seed=3, n=30)
    cx.restriction = cx.restriction.double()
    y = (cx.x[:, 0] > 0).long()
    model = SheafNodeClassifier(5, 2, hidden_channels=4, stalk_width=3, variant=variant, dropout=0.0).double()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(80):
        opt.zero_grad()
        loss = F.cross_entropy(model(cx), y)
        loss.backward()
        opt.step()
    assert (model(cx).argmax(-1) == y).float().mean().item() >= 0.9


def test_bad_input():
    with pytest.raises(ValueError, match="SheafNodeClassifier: variant"):
        SheafNodeClassifier(5, 2, variant="magic")
    cx = with_features()
    del cx.restriction
    with pytest.raises(ValueError, match="needs data.restriction"):
        SheafNodeClassifier(5, 2, stalk_width=3).double()(cx)
    with pytest.raises(ValueError, match="1 <= constant_width \\+ signed_width < stalk_width"):
        SheafNodeClassifier(5, 2, stalk_width=1, variant="conv-constant")
    with pytest.raises(ValueError, match="1 <= constant_width \\+ signed_width < stalk_width"):
        SheafNodeClassifier(5, 2, stalk_width=3, variant="conv-constant", constant_width=3)
    with pytest.raises(ValueError, match="1 <= constant_width \\+ signed_width < stalk_width"):
        SheafNodeClassifier(5, 2, stalk_width=3, variant="conv-constant", constant_width=1, signed_width=2)
    with pytest.raises(ValueError, match="1 <= constant_width \\+ signed_width < stalk_width"):
        SheafNodeClassifier(5, 2, stalk_width=3, variant="conv-constant", constant_width=-1, signed_width=2)
    with pytest.raises(ValueError, match="augmented=True needs a normalised Laplacian"):
        SheafNodeClassifier(5, 2, stalk_width=3, variant="attention", augmented=True)
    with pytest.raises(ValueError, match="signed_width needs a -constant variant"):
        SheafNodeClassifier(5, 2, stalk_width=3, variant="conv", signed_width=1)


def test_constant_width_and_epsilon_reach_the_layers():
    # conv-constant with m constant coordinates == conv on the first d - m local homology coordinates
    # plus m identity restriction maps
    from topoequi.topology import with_constant_sheaf

    torch.manual_seed(0)
    cx = with_features()
    cx.restriction = cx.restriction.double()
    model = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, variant="conv-constant",
                                constant_width=2, epsilon=True).double().eval()
    assert all(layer.eps is not None for layer in model.layers)
    ref = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, variant="conv", epsilon=True).double().eval()
    ref.load_state_dict(model.state_dict())
    manual = cx.clone()
    manual.restriction = with_constant_sheaf(cx.restriction[..., :1, :1], 2)
    assert manual.restriction[0, 0].tolist()[1:] == [[0, 1, 0], [0, 0, 1]]
    assert torch.allclose(model(cx), ref(manual), atol=1e-12)
    # one constant and one signed coordinate: the second endpoint's last map is -1
    signed = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, variant="conv-constant",
                                 constant_width=1, signed_width=1, epsilon=True).double().eval()
    signed.load_state_dict(model.state_dict())
    manual.restriction = with_constant_sheaf(cx.restriction[..., :1, :1], 1, 1)
    assert manual.restriction[0, 1].tolist()[1:] == [[0, 1, 0], [0, 0, -1]]
    assert torch.allclose(signed(cx), ref(manual), atol=1e-12)
    assert not torch.allclose(signed(cx), model(cx), atol=1e-3)
    for variant in ("conv", "nsd"):
        net = SheafNodeClassifier(5, 3, stalk_width=3, variant=variant, augmented=True, num_layers=2)
        assert [layer.augmented for layer in net.layers] == [True, True]


@pytest.mark.parametrize("variant", VARIANTS)
def test_graph_of_isolated_vertices_reduces_to_the_encoder_decoder(variant):
    # self-loops only: the clique complex has no edge, no message flows, the model is its MLP path
    from torch_geometric.data import Data

    from topoequi.transforms import CliqueComplex

    torch.manual_seed(0)
    data = Data(edge_index=torch.tensor([[0, 2, 2], [0, 2, 2]]), x=torch.randn(4, 5, dtype=torch.float64))
    cx = AddLocalHomologySheaf(stalk_width=3, weight="features")(CliqueComplex()(data))
    assert cx.edges.shape == (0, 2) and cx.vertex_dims.tolist() == [[1, 0, 0]] * 4
    cx.restriction = cx.restriction.double()
    model = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, variant=variant).double().eval()
    expected = model.lin_out(F.elu(model.lin_in(cx.x)))
    assert torch.allclose(model(cx), expected, atol=1e-12)


def test_dropout_off_the_residual_stream():
    # residual_dropout=False: the layers drop out their Laplacian input, nothing is dropped after them
    torch.manual_seed(0)
    cx = with_features()
    cx.restriction = cx.restriction.double()
    model = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, dropout=0.6, num_layers=2,
                                residual_dropout=False).double()
    assert [layer.diffusion_dropout for layer in model.layers] == [0.6, 0.6]
    ref = SheafNodeClassifier(5, 3, hidden_channels=4, stalk_width=3, dropout=0.6, num_layers=2).double()
    assert [layer.diffusion_dropout for layer in ref.layers] == [0.0, 0.0]
    ref.load_state_dict(model.state_dict())
    assert torch.equal(model.eval()(cx), ref.eval()(cx))
    # in training: one mask on the encoder output, then one per layer on its Laplacian input only
    model.train()
    torch.manual_seed(3)
    out = model(cx)
    torch.manual_seed(3)
    x = F.dropout(F.elu(model.lin_in(cx.x)), 0.6).view(-1, 3, 4)
    for layer in ref.layers:                                   # eval, same weights: X - sigma(L W_1 X W_2)
        dropped = F.dropout(x, 0.6)
        x = x - (dropped - layer(dropped, cx.edges.t(), cx.restriction))
    assert torch.allclose(out, model.lin_out(x.reshape(x.size(0), -1)), atol=1e-12)


def test_repr_prints_the_configuration():
    model = SheafNodeClassifier(10, 3, variant="persistent-attention", hidden_channels=8, stalk_width=3)
    assert repr(model) == ("SheafNodeClassifier(10, 3, variant='persistent-attention', hidden_channels=8, "
                           "stalk_width=3, num_layers=2)")


def test_variant_names_parse_into_their_parts():
    from topoequi.models.sheaf_node_classifier import VARIANTS, SheafVariant

    assert SheafVariant.parse("attention-constant") == SheafVariant("attention", "local-homology", constant=True)
    assert SheafVariant.parse("persistent").sheaf == "persistent" and SheafVariant.parse("nsd").layer == "nsd"
    assert all(SheafVariant.parse(name).name == name for name in VARIANTS)
    with pytest.raises(ValueError, match="variant must be one of"):
        SheafVariant.parse("gcn")
