"""RelaxedPointClassifier: equal weights in every mode, invariance to the group its likelihoods allow."""
import math

import pytest
import torch
from torch_geometric.data import Batch

from topoequi.datasets.digits import mixed_symmetry_digits
from topoequi.models.relaxed_point_classifier import MODES, RelaxedPointClassifier
from topoequi.symmetry import Cyclic, Dihedral
from topoequi.testing import equivariance_error

D4 = Dihedral(4)


@pytest.fixture(scope="module")
def batch():
    return Batch.from_data_list(mixed_symmetry_digits()[:6])


def model(mode):
    torch.manual_seed(0)
    return RelaxedPointClassifier(D4, 1, 12, mode=mode, channels=2).double()  # batch statistics: unit scale


def errors(net, batch, elements, per_output=False):
    """Relative invariance error of the outputs for each element (per output: ``[12]`` each)."""
    x, pos = batch.x.double(), batch.pos.double()

    def call(x, pos):
        return net(Batch(x=x, pos=pos, edge_index=batch.edge_index, batch=batch.batch))

    with torch.no_grad():
        base = call(x, pos)
        scale = base.abs().max().item()
        if per_output:
            return [(call(x, pos @ g.T.double()) - base).abs().amax(0) / scale for g in elements]
    return [equivariance_error(call, [batch.x, batch.pos], [D4.trivial_rep(1), "pos"], D4.trivial_rep(12),
                               elements=g[None])[0] / scale for g in elements]


def test_equal_parameter_counts():
    counts = {mode: sum(p.numel() for p in model(mode).parameters()) for mode in MODES}
    assert counts["equivariant"] == counts["non-equivariant"] == counts["learnable"] - 3 * 8
    trainable = [n for n, p in model("equivariant").named_parameters() if "likelihood" in n]
    assert trainable == []


def test_invariance_follows_the_likelihoods(batch):
    rotations, mirrors = D4.elements()[:4], D4.elements()[4:]
    assert torch.linalg.det(mirrors).lt(0).all()
    assert max(errors(model("equivariant"), batch, D4.elements())) < 1e-9
    assert min(errors(model("non-equivariant"), batch, D4.elements()[1:])) > 1e-3
    learnable = model("learnable")
    assert max(errors(learnable, batch, D4.elements())) < 1e-9  # uniform at initialization
    kl, align = learnable.regularizers()
    assert float(kl.detach()) == 0.0 and float(align.detach()) == 0.0
    for lam in learnable.likelihoods:
        lam.concentrate_on(Cyclic(4), sharpness=40.0)
    assert max(errors(learnable, batch, rotations)) < 1e-9
    assert min(errors(learnable, batch, mirrors)) > 1e-3
    kl, align = learnable.regularizers()
    assert float(kl.detach()) == pytest.approx(math.log(2), abs=1e-9)  # first layer vs uniform; the others equal it
    assert float(align.detach()) < 1e-12


@pytest.mark.parametrize("branch_layers", [1, 2])
def test_own_last_layers_per_part(batch, branch_layers):
    """Parts [10, 2]: the second part's own likelihoods on C4 break mirrors for it alone."""
    torch.manual_seed(0)
    net = RelaxedPointClassifier(D4, 1, [10, 2], mode="learnable", channels=2, branch_layers=branch_layers).double()
    assert net.shared == 3 - branch_layers and len(net.heads) == 2
    assert len(net.likelihoods) == len(net.convs) == len(net.norms) == net.shared + 2 * branch_layers
    torch.manual_seed(0)
    fixed = RelaxedPointClassifier(D4, 1, [10, 2], mode="equivariant", channels=2, branch_layers=branch_layers)
    assert sum(p.numel() for p in net.parameters()) == (sum(p.numel() for p in fixed.parameters())
                                                        + len(net.likelihoods) * 8)
    for lam in net.likelihoods[net.shared + branch_layers:]:
        lam.concentrate_on(Cyclic(4), sharpness=40.0)
    per_element = errors(net, batch, D4.elements(), per_output=True)
    digit, hand = [e[:10].max() for e in per_element], [e[10:].max() for e in per_element]
    assert max(digit) < 1e-9  # the first part only sees D4-equivariant layers
    assert max(hand[:4]) < 1e-9 and min(hand[4:]) > 1e-3  # the second: C4 only
    kl, align = net.regularizers()
    assert float(kl.detach()) == pytest.approx(math.log(2), abs=1e-9)  # the split's step to C4, then equal
    assert float(net.regularizers("uniform")[0].detach()) == pytest.approx(branch_layers * math.log(2), abs=1e-9)
    assert float(align.detach()) < 1e-12
    with pytest.raises(ValueError, match="out_channels must be a positive int or a non-empty sequence"):
        RelaxedPointClassifier(D4, 1, [10, 0])
    with pytest.raises(ValueError, match=r"branch_layers must be in \[1, num_layers\)"):
        RelaxedPointClassifier(D4, 1, [10, 2], branch_layers=3)
    with pytest.raises(ValueError, match="prior must be 'chain' or 'uniform'"):
        net.regularizers("paper")


def test_balance_only_in_the_learnable_mode():
    """IsotypicBalance parametrizes W_0 of the learnable layers; the fixed modes would not change with it."""
    from torch.nn.utils import parametrize

    assert all(parametrize.is_parametrized(c, "relaxed_weight") for c in model("learnable").convs)
    for mode in ("equivariant", "non-equivariant"):
        assert not any(parametrize.is_parametrized(c) for c in model(mode).convs)
    torch.manual_seed(0)
    free = RelaxedPointClassifier(D4, 1, 12, channels=2, balance=False)
    assert not any(parametrize.is_parametrized(c) for c in free.convs)


def test_bad_input():
    with pytest.raises(ValueError, match="mode must be one of"):
        RelaxedPointClassifier(D4, 1, 12, mode="partial")
    from topoequi.symmetry import SO2

    with pytest.raises(ValueError, match="group must be a finite topoequi Group"):
        RelaxedPointClassifier(SO2(), 1, 12)


def test_group_by_name_and_repr():
    torch.manual_seed(0)
    by_name = RelaxedPointClassifier("D4", 1, [3, 2], channels=2, balance=False)
    torch.manual_seed(0)
    by_object = RelaxedPointClassifier(D4, 1, [3, 2], channels=2, balance=False)
    assert by_name.group == D4
    for (key, a), b in zip(by_name.state_dict().items(), by_object.state_dict().values()):
        assert torch.equal(a, b), key
    assert repr(by_name) == ("RelaxedPointClassifier(D4, mode='learnable', convs=4, branch_layers=1, "
                             "out_channels=[3, 2])")
    with pytest.raises(ValueError, match="unknown group 'D0'"):
        RelaxedPointClassifier("D0", 1, 3)
