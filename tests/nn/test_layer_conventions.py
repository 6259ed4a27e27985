"""PyG's layer conventions: every public layer exported, printing its configuration, and
initialised once, by ``reset_parameters()`` at the end of ``__init__``."""
import importlib
import inspect
import pkgutil

import pytest
import torch

import topoequi.nn as tnn
from topoequi.symmetry import Rep, group_from_name

REP = Rep("4x0e+2x1o")


def _public_layers() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(tnn.__path__, "topoequi.nn."):
        module = importlib.import_module(info.name)
        names |= {name for name, obj in vars(module).items() if inspect.isclass(obj)
                  and issubclass(obj, torch.nn.Module) and obj.__module__ == info.name and not name.startswith("_")}
    return names


def test_every_public_layer_is_exported():
    missing = _public_layers() - set(tnn.__all__)
    assert not missing, f"layers not exported from topoequi.nn: {sorted(missing)}"
    assert {"GramEdgeConv", "SteerableMessagePassing", "SheafDiffusion"} <= set(tnn.__all__)


LAYERS = {  # a configuration and what its one-line repr must show
    "EquivariantBatchNorm": (lambda: tnn.EquivariantBatchNorm(REP, momentum=0.2),
                             "EquivariantBatchNorm(4x0e+2x1o, momentum=0.2, eps=1e-05)"),
    "EquivariantBilinear": (lambda: tnn.EquivariantBilinear(REP, Rep("1x1o"), REP),
                            "EquivariantBilinear(4x0e+2x1o x 1x1o -> 4x0e+2x1o)"),
    "EquivariantLinear": (lambda: tnn.EquivariantLinear(REP, Rep("3x1o")), "EquivariantLinear(4x0e+2x1o -> 3x1o)"),
    "EquivariantMLP": (lambda: tnn.EquivariantMLP(REP, [Rep("2x0e+1x1o")], REP, nonlinearity="norm"),
                       "EquivariantMLP(4x0e+2x1o -> [2x0e+1x1o] -> 4x0e+2x1o, batch_norm=True)"),
    "GatedNonlinearity": (lambda: tnn.GatedNonlinearity(REP),
                          "GatedNonlinearity(4x0e+2x1o, gates=2, activation=silu, gate=sigmoid)"),
    "NormNonlinearity": (lambda: tnn.NormNonlinearity(REP), "NormNonlinearity(4x0e+2x1o, activation=silu, eps=0.001)"),
    "GaussianRadialBasis": (lambda: tnn.GaussianRadialBasis(6, 2.5, learnable=False),
                            "GaussianRadialBasis(6, cutoff=2.5, learnable=False)"),
    "FourierNonlinearity": (lambda: tnn.FourierNonlinearity(group_from_name("C4").regular_rep().repeat(2)),
                            "FourierNonlinearity(1x0+1x1+1x2 x 2, samples=4, adaptive=False)"),
    "GroupLikelihood": (lambda: tnn.GroupLikelihood(group_from_name("D4")),
                        "GroupLikelihood(group=D4, max_frequency=2, samples=8, learnable=True)"),
    "IsotypicBalance": (lambda: tnn.IsotypicBalance(tnn.SteerableConv(
        *[group_from_name("C4").regular_rep()] * 2, likelihood=tnn.GroupLikelihood(group_from_name("C4")))),
                        "IsotypicBalance(C4, components=3, blocks=3)"),
    "SteerableConv": (lambda: tnn.SteerableConv(REP, REP, cutoff=2.0),
                      "SteerableConv(4x0e+2x1o -> 4x0e+2x1o, group=O(3), cutoff=2.0)"),
    "ImplicitSteerableConv": (lambda: tnn.ImplicitSteerableConv(REP, REP),
                              "ImplicitSteerableConv(4x0e+2x1o -> 4x0e+2x1o, group=O(3), cutoff=5.0)"),
    "LocalHomologySheafConv": (lambda: tnn.LocalHomologySheafConv(8, 3, persistent=True),
                               "LocalHomologySheafConv(8, stalk_width=3, persistent=True, epsilon=False)"),
    "LocalHomologySheafAttention": (lambda: tnn.LocalHomologySheafAttention(8, 3, epsilon=True),
                                    "LocalHomologySheafAttention(8, stalk_width=3, persistent=False, epsilon=True)"),
    "NeuralSheafDiffusionConv": (lambda: tnn.NeuralSheafDiffusionConv(8, 3, maps="diagonal"),
                                 ("NeuralSheafDiffusionConv(8, stalk_width=3, maps='diagonal', augmented=False, "
                                  "epsilon=False)")),
    "GramEdgeConv": (lambda: tnn.GramEdgeConv(8), "GramEdgeConv(8)"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_print_their_configuration(name):
    build, expected = LAYERS[name]
    assert repr(build()) == expected


# every layer with parameters draws them once, in reset_parameters(), except GramEdgeConv: as PyG's layers,
# its torch.nn.Linear sublayers draw when built and again in the reset at the end of its __init__
ONCE = ["EquivariantBatchNorm", "EquivariantBilinear", "EquivariantLinear", "EquivariantMLP", "NormNonlinearity",
        "GaussianRadialBasis", "GroupLikelihood", "SteerableConv", "ImplicitSteerableConv", "LocalHomologySheafConv",
        "LocalHomologySheafAttention", "NeuralSheafDiffusionConv"]


def test_every_layer_with_parameters_resets_them():
    for name, (build, _) in LAYERS.items():
        layer = build()
        if any(True for _ in layer.parameters()):
            assert hasattr(layer, "reset_parameters"), name
            assert name in ONCE or name in ("GramEdgeConv", "IsotypicBalance"), name


@pytest.mark.parametrize("name", ONCE)
def test_construction_initialises_once_through_reset_parameters(name):
    build = LAYERS[name][0]
    torch.manual_seed(7)
    layer = build()
    built, next_draw = {k: v.clone() for k, v in layer.state_dict().items()}, torch.rand(1)
    with torch.no_grad():
        for p in layer.parameters():
            p.fill_(3.0)
    torch.manual_seed(7)
    layer.reset_parameters()
    assert torch.equal(torch.rand(1), next_draw)  # the same random draws as the constructor, no more
    for key, value in layer.state_dict().items():
        assert torch.equal(value, built[key]), key
    assert any(not torch.equal(v, torch.full_like(v, 3.0)) for v in built.values())
