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
    kl, align, defect = learnable.regularizers()
    assert float(kl.detach()) == 0.0 and float(align.detach()) == 0.0 and 2.0 < float(defect.detach()) < 3.0  # 3 layers, W0 unconstrained
    for lam in learnable.likelihoods:
        lam.concentrate_on(Cyclic(4), sharpness=40.0)
    assert max(errors(learnable, batch, rotations)) < 1e-9
    assert min(errors(learnable, batch, mirrors)) > 1e-3
    kl, align, _ = learnable.regularizers()
    assert float(kl.detach()) == pytest.approx(math.log(2), abs=1e-9)  # first layer vs uniform; the others equal it
    assert float(align.detach()) < 1e-12


def test_one_last_layer_per_part(batch):
    """Parts [10, 2]: the second part's own last likelihood on C4 breaks mirrors for it alone."""
    torch.manual_seed(0)
    net = RelaxedPointClassifier(D4, 1, [10, 2], mode="learnable", channels=2).double()
    assert len(net.likelihoods) == len(net.convs) == len(net.norms) == 4 and len(net.heads) == 2
    torch.manual_seed(0)
    fixed = RelaxedPointClassifier(D4, 1, [10, 2], mode="equivariant", channels=2)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in fixed.parameters()) + 4 * 8
    net.likelihoods[3].concentrate_on(Cyclic(4), sharpness=40.0)
    rotations, mirrors = D4.elements()[:4], D4.elements()[4:]
    digit = [e[:10] for e in errors(net, batch, D4.elements(), per_output=True)]
    hand = [e[10:] for e in errors(net, batch, D4.elements(), per_output=True)]
    assert max(max(e) for e in digit) < 1e-9  # the first part only sees D4-equivariant layers
    assert max(max(e) for e in hand[:4]) < 1e-9 and min(max(e) for e in hand[4:]) > 1e-3
    kl, align, _ = net.regularizers()
    assert float(kl.detach()) == pytest.approx(math.log(2), abs=1e-9)  # only the last layer of part 2 left uniform
    assert float(align.detach()) < 1e-12
    with pytest.raises(ValueError, match="out_channels must be a positive int or a non-empty sequence"):
        RelaxedPointClassifier(D4, 1, [10, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="mode must be one of"):
        RelaxedPointClassifier(D4, 1, 12, mode="partial")
    from topoequi.symmetry import SO2

    with pytest.raises(ValueError, match="group must be a finite topoequi Group"):
        RelaxedPointClassifier(SO2(), 1, 12)
