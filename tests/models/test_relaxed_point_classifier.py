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


def errors(net, batch, elements):
    def call(x, pos):
        return net(Batch(x=x, pos=pos, edge_index=batch.edge_index, batch=batch.batch))

    scale = call(batch.x.double(), batch.pos.double()).abs().max().item()
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
    assert float(kl) == 0.0 and float(align) == 0.0 and 2.0 < float(defect) < 3.0  # 3 layers, W0 unconstrained
    for lam in learnable.likelihoods:
        lam.concentrate_on(Cyclic(4), sharpness=40.0)
    assert max(errors(learnable, batch, rotations)) < 1e-9
    assert min(errors(learnable, batch, mirrors)) > 1e-3
    kl, align, _ = learnable.regularizers()
    assert float(kl) == pytest.approx(math.log(2), abs=1e-9)  # first layer vs uniform; the others equal it
    assert float(align) < 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="mode must be one of"):
        RelaxedPointClassifier(D4, 1, 12, mode="partial")
    from topoequi.symmetry import SO2

    with pytest.raises(ValueError, match="group must be a finite topoequi Group"):
        RelaxedPointClassifier(SO2(), 1, 12)
