"""The bound's terms against a direct numpy computation, its invariance to rescaling between
homogeneous layers, the networks it is computed for, and its errors."""
import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from topoequi.nn import EquivariantLinear
from topoequi.symmetry import group_from_name
from topoequi.testing.image_equivariance import grid_elements, transform_image
from topoequi.theory import pac_bayes_bounds
from topoequi.theory.networks import homogeneous_cnn


def _tiny_network() -> nn.Sequential:
    torch.manual_seed(0)
    c4 = group_from_name("C4")
    two, three = c4.regular_rep().repeat(2), c4.regular_rep().repeat(3)
    return nn.Sequential(EquivariantLinear(two, three, bias=False), nn.ReLU(),
                         EquivariantLinear(three, c4.trivial_rep(4), bias=False), nn.ReLU(),
                         nn.Linear(4, 3, bias=False)).double()


def _numpy_bound(kl_terms, x, y, logits, gamma, delta, depth):
    """The formula of topoequi.theory.pac_bayes, written out in numpy."""
    eta, size, spectral, frobenius = kl_terms
    true = logits[np.arange(len(y)), y]
    others = np.where(np.eye(logits.shape[1])[y] > 0, -np.inf, logits).max(1)
    loss = np.mean(true - others <= gamma)
    b = np.linalg.norm(x, axis=1).max()
    m = len(y)
    kl = 42**2 * (b * depth) ** 2 * eta * np.log(2 * size) * np.prod(np.square(spectral)) \
        * np.sum(np.array(frobenius) / np.square(spectral)) / (2 * gamma**2)
    confidence = np.log(6 * depth / delta) + (1 + 1 / (2 * depth)) * np.log(m)
    return loss, kl, loss + 4 * np.sqrt((kl + confidence) / (m - 1))


def test_bound_terms_match_a_numpy_computation():
    net = _tiny_network()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(40, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (40,), generator=gen)
    gamma, delta = 0.05, 0.1
    equivariant, nbs18 = pac_bayes_bounds(net, x, y, gamma, delta)
    mats = [net[0].matrix().detach().numpy().T, net[2].matrix().detach().numpy().T, net[4].weight.detach().numpy()]
    h = x.numpy()
    for w in mats:
        h = np.maximum(w @ h.T, 0).T if w is not mats[-1] else (w @ h.T).T
    spectral = [np.linalg.norm(w, 2) for w in mats]
    # C4 regular fields: irreps 0, 2 (real, dim 1) and 1 (complex type, dim 2), one copy each per field
    coefficients = [sum(float(p.detach().square().sum()) for p in net[0].weights.values()),
                    sum(float(p.detach().square().sum()) for p in net[2].weights.values()),
                    float(np.square(mats[2]).sum())]
    eta, size = max(1 * 3, 2 * 3, 1 * 3, 4, 4), (2 + 3) + 2 * (2 + 3) + (2 + 3) + (3 + 4) + (4 + 3)
    loss, kl, value = _numpy_bound((eta, size, spectral, coefficients), x.numpy(), y.numpy(), h, gamma, delta, 3)
    assert (equivariant.eta, equivariant.size) == (6, 34)
    assert equivariant.margin_loss == loss
    assert [t.spectral for t in equivariant.layers] == pytest.approx(spectral, rel=1e-10)
    assert [t.frobenius_sq for t in equivariant.layers] == pytest.approx(coefficients, rel=1e-10)
    assert equivariant.kl == pytest.approx(kl, rel=1e-9)
    assert equivariant.value == pytest.approx(value, rel=1e-9)
    # NBS18 on the dense matrices: widths 12 / 4 / 3, Frobenius norms of the matrices themselves
    dense_frobenius = [float(np.square(w).sum()) for w in mats]
    _, kl, value = _numpy_bound((12, 20 + 16 + 7, spectral, dense_frobenius), x.numpy(), y.numpy(), h, gamma,
                                delta, 3)
    assert nbs18.kl == pytest.approx(kl, rel=1e-9) and nbs18.value == pytest.approx(value, rel=1e-9)
    assert equivariant.value < nbs18.value


@pytest.fixture(scope="module")
def small_cnn():
    torch.manual_seed(2)
    net = homogeneous_cnn("D2", (1, 2), kernel_size=3).double()
    x = torch.rand(12, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    return net, x, torch.arange(12) % 10


def test_bound_is_invariant_to_rescaling_between_homogeneous_layers(small_cnn):
    net, x, y = small_cnn
    before = pac_bayes_bounds(net, x, y, gamma=1e-3)
    rescaled = copy.deepcopy(net)  # the module's network stays as it is
    alpha = 3.0
    with torch.no_grad():
        for w in rescaled[0].parameters():
            w.mul_(alpha)
        rescaled[-1].weight.div_(alpha)
    after = pac_bayes_bounds(rescaled, x, y, gamma=1e-3)
    assert (rescaled(x) - net(x)).abs().max() < 1e-12  # the same function
    for b, a in zip(before, after):
        assert a.layers[0].spectral == pytest.approx(alpha * b.layers[0].spectral, rel=1e-6)
        assert a.value == pytest.approx(b.value, rel=1e-6)
        assert a.kl == pytest.approx(b.kl, rel=1e-6)


def test_homogeneous_cnn_is_invariant_to_the_grid_symmetries(small_cnn):
    net, x, _ = small_cnn
    group = group_from_name("D2")
    reference = net(x)
    errors = [float((net(transform_image(x, g)) - reference).detach().abs().max()) for g in grid_elements(group)]
    assert len(errors) == 4 and max(errors) < 1e-12


def test_bad_input_is_refused_in_one_line(small_cnn):
    net, x, y = small_cnn
    with pytest.raises(ValueError, match="gamma must be positive, got 0"):
        pac_bayes_bounds(net, x, y, gamma=0.0)
    with pytest.raises(ValueError, match="gamma must be positive"):
        pac_bayes_bounds(net, x, y, gamma=-1.0)
    with pytest.raises(ValueError, match="the dataset has no examples"):
        pac_bayes_bounds(net, x[:0], y[:0], gamma=0.1)
    with_norm = nn.Sequential(*net[:2], nn.BatchNorm2d(net[0].out_rep.dim), *net[2:]).double()
    with pytest.raises(ValueError, match=r"layer BatchNorm2d\(4, .* is neither a supported linear layer"):
        pac_bayes_bounds(with_norm.eval(), x, y, gamma=0.1)
    with pytest.raises(ValueError, match="must be an nn.Sequential"):
        pac_bayes_bounds(nn.Linear(3, 2), torch.randn(4, 3), torch.zeros(4, dtype=torch.long), gamma=0.1)
    biased = nn.Sequential(nn.Linear(3, 2)).double()
    with pytest.raises(ValueError, match=r"layer Linear\(in_features=3.* has a nonzero bias"):
        pac_bayes_bounds(biased, torch.randn(4, 3, dtype=torch.float64), torch.zeros(4, dtype=torch.long), 0.1)


def test_depth_and_spatial_size_enter_the_nbs18_width_only(small_cnn):
    net, x, y = small_cnn
    equivariant, nbs18 = pac_bayes_bounds(net, x, y, gamma=1e-3)
    assert equivariant.depth == nbs18.depth == 3
    # the dense widths grow with the image, the Fourier multiplicities do not
    assert nbs18.eta == max(144, 4 * 144, 4 * 36, 8 * 36) and equivariant.eta < 100
    assert math.isfinite(equivariant.value) and equivariant.value < nbs18.value
