import itertools

import pytest
import torch

from topoequi.nn.fourier_nonlinearity import FourierNonlinearity
from topoequi.nn.mlp import EquivariantMLP
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant, equivariance_error

EXACT = 1e-12


def features(rep, batch=4, seed=0):
    return torch.randn(batch, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


# (group, band-limit, samples): the minimum (None, a design grid) and a plain grid above it
ADAPTIVE_CASES = [("SO(2)", 3, None), ("SO(2)", 3, 11), ("O(2)", 2, None), ("O(2)", 2, 14),
                  ("SO(3)", 1, None), ("SO(3)", 2, 40), ("O(3)", 1, None), ("O(3)", 2, 80),
                  ("SO(2)@R3", 2, None), ("O(2)@R3", 2, None)]


@pytest.mark.parametrize("name,L,samples", ADAPTIVE_CASES)
def test_adaptive_sampling_is_exactly_equivariant(name, L, samples):
    group = group_from_name(name)
    rep = group.regular_rep(L).repeat(3)
    layer = FourierNonlinearity(rep, samples=samples, adaptive=True)
    x = features(rep)
    assert bool((layer.frame(x.reshape(4, 3, -1)).confidence == 1).all())  # well-defined frames
    errors = assert_equivariant(layer, [x], [rep], rep, n_elements=8, atol=EXACT)
    uniform = equivariance_error(FourierNonlinearity(rep, samples=samples), [x], [rep], rep, n_elements=8)
    assert uniform[0] > 1e-3 > 1e6 * errors[0]  # same samples, fixed: far from equivariant


@pytest.mark.parametrize("name,L", [("SO(2)", 3), ("O(2)", 2), ("O(2)@R3", 2), ("SO(3)", 2), ("O(3)", 1)])
def test_adaptive_layer_is_the_weighted_sum_over_frames(name, L):
    # Phi(f) = sum_s w_s rho(U_s) A^+ sigma(A rho(U_s)^T f) with the frames of FourierFrame
    group = group_from_name(name)
    single = group.regular_rep(L)
    layer = FourierNonlinearity(single.repeat(2), adaptive=True)
    x = features(single.repeat(2), batch=3)
    f = x.reshape(3, 2, single.dim)
    frames = layer.frame(f)
    assert bool((frames.confidence == 1).all())
    u = frames.elements
    rho = single.matrices(u.reshape(-1, group.d, group.d)).reshape(*u.shape[:-2], single.dim, single.dim)
    y = layer.pointwise(torch.einsum("bckji,bcj->bcki", rho, f))
    expected = torch.einsum("bckij,bckj,bck->bci", rho, y, frames.weights)
    assert (layer(x) - expected.reshape(x.shape)).abs().max() < 1e-12


@pytest.mark.parametrize("name", ["C1", "C8", "D4", "O", "Oh", "Ci", "Cs", "C6@R3+mirror", "D3@R3"])
@pytest.mark.parametrize("adaptive", [False, True])
def test_finite_groups_are_exact_on_all_elements(name, adaptive):
    group = group_from_name(name)
    rep = group.regular_rep().repeat(2)
    layer = FourierNonlinearity(rep, sigma="relu", adaptive=adaptive)
    assert layer.sampling.shape == (group.order, group.order) and layer.frame is None
    assert_equivariant(layer, [features(rep)], [rep], rep, n_elements=8, atol=EXACT)


@pytest.mark.parametrize("name,L,grids", [("SO(2)", 2, [5, 10, 20, 40, 80]), ("O(2)", 2, [10, 20, 40, 80, 160]),
                                          ("SO(3)", 1, [10, 40, 160, 640]), ("O(3)", 1, [20, 80, 320])])
def test_uniform_error_decreases_with_the_number_of_samples(name, L, grids):
    group = group_from_name(name)
    rep = group.regular_rep(L).repeat(2)
    x = features(rep)
    errors = [equivariance_error(FourierNonlinearity(rep, samples=n), [x], [rep], rep)[0] for n in grids]
    assert all(b < a / 2 for a, b in itertools.pairwise(errors)), errors
    assert errors[0] > 0.5  # the minimal uniform grid is far from equivariant


@pytest.mark.parametrize("name,L", [("SO(2)", 3), ("O(2)", 2), ("SO(3)", 2), ("O(3)", 1), ("D6", None)])
@pytest.mark.parametrize("adaptive", [False, True])
def test_fourier_round_trip(name, L, adaptive):
    # with the identity as sigma, A^+ A f = f (and rho(U) rho(U)^T = 1): the layer is the identity
    group = group_from_name(name)
    rep = group.regular_rep(L).repeat(2)
    x = features(rep)
    samples = None if group.is_finite else 3 * group.regular_rep(L).dim + 1
    samples = samples + samples % 2 if samples else None
    layer = FourierNonlinearity(rep, sigma=lambda t: t, samples=samples, adaptive=adaptive)
    assert (layer(x) - x).abs().max() < 1e-12
    # and the samples are the function's values: relu of a constant function is a constant
    const = torch.zeros(1, rep.dim, dtype=torch.float64)
    const[0, 0] = -2.0
    assert torch.equal(FourierNonlinearity(rep, sigma="relu", samples=samples)(const).abs().max(),
                       torch.tensor(0.0, dtype=torch.float64))


def test_degenerate_frames_blend_continuously_into_uniform_sampling():
    # output = beta * (exact) + (1 - beta) * (uniform): the equivariance error is (1 - beta) times the uniform one
    group = group_from_name("SO(2)")
    rep = group.regular_rep(2)
    adaptive = FourierNonlinearity(rep, adaptive=True, min_strength=0.5)
    uniform = FourierNonlinearity(rep)
    x = features(rep, batch=1, seed=3).repeat(6, 1)
    x[:, 1:3] *= torch.tensor([0.0, 1e-3, 0.05, 0.2, 0.5, 10.0], dtype=torch.float64)[:, None]
    beta = adaptive.frame(x).confidence
    assert beta[0] == 0 and beta[-1] == 1 and bool((beta[1:] > beta[:-1]).all())
    g = group.sample(1, generator=torch.Generator().manual_seed(4))

    def errors(layer):
        return torch.tensor([equivariance_error(layer, [xi[None]], [rep], rep, elements=g)[0] for xi in x],
                            dtype=torch.float64)

    err_a, err_u = errors(adaptive), errors(uniform)
    assert err_a[-1] < EXACT and abs(err_a[0] - err_u[0]) < EXACT
    assert (err_a - (1 - beta) * err_u).abs().max() < 1e-10
    # continuity: the output at a vanishing frequency-1 part tends to the uniform output
    tiny = x[:1].clone()
    tiny[0, 1:3] = 1e-9
    assert (adaptive(tiny) - uniform(x[:1])).abs().max() < 1e-8


def test_gradients_through_the_frame():
    group = group_from_name("O(2)")
    rep = group.regular_rep(1).repeat(2)
    layer = FourierNonlinearity(rep, sigma="tanh", adaptive=True)
    x = features(rep, batch=2).requires_grad_(True)
    assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-6)


def test_plugs_into_the_equivariant_mlp():
    group = group_from_name("SO(3)")
    in_rep = Rep(group, [(group.irrep(0), 2), (group.irrep(1), 2)])
    hidden = group.regular_rep(1).repeat(4)
    torch.manual_seed(0)  # weights whose hidden features all have well-defined frames (checked below)
    mlp = EquivariantMLP(in_rep, [hidden, hidden], group.trivial_rep(3), batch_norm=False,
                         nonlinearity=FourierNonlinearity.factory(sigma="elu", adaptive=True))
    acts = [m for m in mlp.layers if isinstance(m, FourierNonlinearity)]
    assert len(acts) == 2 and acts[0].in_rep == hidden and acts[0].sampling.shape == (10, 10)
    x = features(in_rep, batch=5).float()
    confidences = []
    hooks = [a.register_forward_hook(lambda m, i, o: confidences.append(
        m.frame(i[0].reshape(5, m.channels, -1)).confidence)) for a in acts]
    mlp(x)
    for hook in hooks:
        hook.remove()
    assert len(confidences) == 2 and all(bool((c == 1).all()) for c in confidences)
    assert_equivariant(mlp, [x], [in_rep], group.trivial_rep(3), atol=1e-9)


def test_float32_forward_and_backward():
    rep = group_from_name("SO(3)").regular_rep(1).repeat(2)
    layer = FourierNonlinearity(rep, adaptive=True)
    x = torch.randn(7, 5, rep.dim, requires_grad=True)
    y = layer(x)
    assert y.dtype == torch.float32 and y.shape == x.shape
    y.square().sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_bad_input():
    so3 = group_from_name("SO(3)")
    with pytest.raises(ValueError, match="FourierNonlinearity: rep must be channels copies of one band-limited"):
        FourierNonlinearity(Rep(so3, [so3.irrep(1)]))
    with pytest.raises(ValueError, match="regular_rep\\(L\\).repeat\\(channels\\)"):
        FourierNonlinearity(so3.regular_rep(1) + so3.regular_rep(2))
    with pytest.raises(TypeError, match="rep must be a Rep"):
        FourierNonlinearity("SO(3)")
    with pytest.raises(ValueError, match="FourierNonlinearity: 20 samples are too few .* at least 35"):
        FourierNonlinearity(so3.regular_rep(2).repeat(2), samples=20)
    with pytest.raises(ValueError, match="at least 35"):
        FourierNonlinearity(so3.regular_rep(2), samples=so3.grid(34))
    with pytest.raises(ValueError, match="FourierNonlinearity: .*rank-deficient"):
        FourierNonlinearity(so3.regular_rep(1), samples=so3.grid(5).repeat(2, 1, 1))
    with pytest.raises(ValueError, match="not elements of SO\\(3\\)"):
        FourierNonlinearity(so3.regular_rep(1), samples=-so3.grid(10))
    with pytest.raises(ValueError, match="samples must be None or 8"):
        FourierNonlinearity(group_from_name("C8").regular_rep(), samples=16)
    with pytest.raises(ValueError, match="n must be a positive even integer"):
        FourierNonlinearity(group_from_name("O(3)").regular_rep(1), samples=21)
    with pytest.raises(TypeError, match="samples must be None, an int or a Tensor"):
        FourierNonlinearity(so3.regular_rep(1), samples=10.0)
    with pytest.raises(ValueError, match="sigma must be one of"):
        FourierNonlinearity(so3.regular_rep(1), sigma="swish")
    with pytest.raises(ValueError, match="no equivariant frame for SO\\(2\\)@R3\\+mirror"):
        FourierNonlinearity(group_from_name("SO(2)@R3+mirror").regular_rep(1), samples=8, adaptive=True)
    with pytest.raises(ValueError, match="last dimension 10"):
        FourierNonlinearity(so3.regular_rep(1))(torch.randn(3, 11))


@pytest.mark.parametrize("name", ["SO(3)", "O(3)"])
def test_parallel_vectors_blend_into_uniform_sampling_in_3d(name):
    # c_2 -> c_1: the 3D frame is undefined in the limit; the output tends continuously to uniform sampling
    rep = group_from_name(name).regular_rep(1)
    adaptive = FourierNonlinearity(rep, adaptive=True)
    uniform = FourierNonlinearity(rep, samples=adaptive.elements)
    x = features(rep, batch=1, seed=7)
    o1, o2 = adaptive.frame.vector_offsets
    gaps = []
    for t in (1.0, 1e-3, 1e-4, 1e-6, 1e-9, 0.0):
        xt = x.clone()
        xt[0, o2:o2 + 3] = x[0, o1:o1 + 3] + t * (x[0, o2:o2 + 3] - x[0, o1:o1 + 3])
        gaps.append((adaptive(xt) - uniform(xt)).abs().max().item())
    assert gaps[0] > 1e-2 and gaps[-1] == 0.0
    assert gaps[3] < 1e-4 and gaps[4] < 1e-7  # |Phi_ad - Phi_uniform| = O(t^2 / min_strength^2) near the limit
