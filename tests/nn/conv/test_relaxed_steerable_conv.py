"""Steerable convolutions relaxed by a GroupLikelihood: uniform = equivariant, subgroup = partially
equivariant, trivial group = unconstrained, gradients to the Fourier coefficients, bad input."""
import pytest
import torch

from topoequi.nn import GroupLikelihood, ImplicitSteerableConv, SteerableConv
from topoequi.symmetry import O2, SO2, Cyclic, Dihedral, Octahedral, Rep, group_from_name
from topoequi.testing import assert_equivariant, equivariance_error

CONVS = [ImplicitSteerableConv, SteerableConv]


def setup(group, seed=0, n=10, e=36):
    gen = torch.Generator().manual_seed(seed)
    irreps = group.irreps(None if group.is_finite else 2)[:4]
    rep_in = Rep(group, [(p, 2) for p in irreps]) + group.standard_rep
    rep_out = group.standard_rep + Rep(group, [(p, 2) for p in irreps])
    pos = torch.randn(n, group.d, generator=gen, dtype=torch.float64) * 1.5
    edge_index = torch.randint(n, (2, e), generator=gen)
    x = torch.randn(n, rep_in.dim, generator=gen, dtype=torch.float64)
    return rep_in, rep_out, [x, pos, edge_index]


def build(cls, rep_in, rep_out, likelihood, fused=True):
    torch.manual_seed(0)
    return cls(rep_in, rep_out, cutoff=3.0, likelihood=likelihood, fused=fused).double()


def some_elements(group, n=8, seed=0):
    """All elements of a small finite group, ``n`` random ones of a larger one."""
    elements = group.elements()
    return elements[torch.randperm(elements.shape[0], generator=torch.Generator().manual_seed(seed))[:n]]


def errors(conv, args, rep_in, rep_out, elements):
    """Equivariance error of each element separately, relative to the output scale."""
    scale = conv(*args).abs().max().item()
    return torch.tensor([equivariance_error(conv, args, [rep_in, "pos", None], rep_out, elements=g[None])[0]
                         for g in elements]) / scale


# layer group, likelihood group and its band-limit (None: a finite group, all irreps)
UNIFORM = [("O(2)", "O(2)", 2), ("SO(2)", "SO(2)", 2), ("D4", "D4", None), ("Oh", "Oh", None),
           ("O(3)", "Oh", None), ("O(2)", "D6", None)]


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("cls", CONVS)
@pytest.mark.parametrize("name, sub, L", UNIFORM)
def test_uniform_likelihood_gives_an_equivariant_layer(name, sub, L, cls, fused):
    group, k = group_from_name(name), group_from_name(sub)
    rep_in, rep_out, args = setup(group)
    grid = None if k.is_finite else 32 * (2 if k.has_reflections else 1)
    conv = build(cls, rep_in, rep_out, GroupLikelihood(k, max_frequency=L, grid_size=grid), fused)
    elements = some_elements(k) if k.is_finite else None
    errs = assert_equivariant(conv, args, [rep_in, "pos", None], rep_out, group=group, elements=elements,
                              n_elements=8)
    assert errs[0] < 1e-9
    assert conv(*args).abs().max() > 1e-2  # not trivially zero
    if k == group:  # the average projects onto the equivariant maps: averaging again changes nothing
        w = conv.kernel_weight()
        conv.relaxed_weight.data.copy_(w)
        assert torch.allclose(conv.kernel_weight(), w, atol=1e-13)


def test_fused_and_message_passing_paths_agree():
    group = Dihedral(4)
    rep_in, rep_out, args = setup(group)
    lam = GroupLikelihood(group).double().concentrate_on(Cyclic(2))
    for cls in CONVS:
        fused = build(cls, rep_in, rep_out, lam, fused=True)
        plain = build(cls, rep_in, rep_out, lam, fused=False)
        assert torch.allclose(fused(*args), plain(*args), atol=1e-12)


# layer group, likelihood group and band-limit, subgroup H, an element of the likelihood group outside H
SUBGROUPS = [("D8", "D8", None, Cyclic(4)), ("O(2)", "O(2)", 4, Dihedral(4)), ("SO(2)", "SO(2)", 4, Cyclic(4)),
             ("Oh", "Oh", None, Octahedral()), ("O(3)", "Oh", None, Octahedral())]


@pytest.mark.parametrize("cls", CONVS)
@pytest.mark.parametrize("name, sub, L, h", SUBGROUPS)
def test_likelihood_on_a_subgroup_gives_a_partially_equivariant_layer(name, sub, L, h, cls):
    group, k = group_from_name(name), group_from_name(sub)
    rep_in, rep_out, args = setup(group, seed=1)
    lam = GroupLikelihood(k, max_frequency=L).double().concentrate_on(h, sharpness=40.0)
    conv = build(cls, rep_in, rep_out, lam)
    inside = errors(conv, args, rep_in, rep_out, some_elements(h))
    assert inside.max() < 1e-9
    outside = k.elements() if k.is_finite else k.grid(16 if k.has_reflections else 8)
    outside = outside[~h.contains(outside)][:6]
    assert errors(conv, args, rep_in, rep_out, outside).min() > 1e-2  # measurably not G-equivariant


@pytest.mark.parametrize("cls", CONVS)
def test_trivial_group_likelihood_is_the_unconstrained_layer(cls):
    group = O2()
    rep_in, rep_out, args = setup(group)
    conv = build(cls, rep_in, rep_out, GroupLikelihood(Cyclic(1)))
    assert torch.equal(conv.kernel_weight(), conv.relaxed_weight)
    assert errors(conv, args, rep_in, rep_out, group.grid(8)[1:]).min() > 1e-2


@pytest.mark.parametrize("cls", CONVS)
def test_gradients_flow_to_the_fourier_coefficients(cls):
    group = Dihedral(4)
    rep_in, rep_out, args = setup(group)
    lam = GroupLikelihood(group).double()
    conv = build(cls, rep_in, rep_out, lam)
    target = torch.randn(args[0].shape[0], rep_out.dim, generator=torch.Generator().manual_seed(3),
                         dtype=torch.float64)
    loss = (conv(*args) - target).square().sum()
    loss.backward()
    grad = lam.coefficients.grad
    assert grad is not None and grad.abs().max() > 1e-6
    assert conv.relaxed_weight.grad.abs().max() > 1e-6
    # the gradient matches a central difference along it
    direction = grad / grad.norm()
    eps = 1e-6
    with torch.no_grad():
        base = lam.coefficients.clone()
        values = []
        for sign in (1, -1):
            lam.coefficients.copy_(base + sign * eps * direction)
            values.append(float((conv(*args) - target).square().sum()))
        lam.coefficients.copy_(base)
    assert (values[0] - values[1]) / (2 * eps) == pytest.approx(float(grad.norm()), rel=1e-5)


def test_shared_likelihood_between_layers():
    group = Dihedral(4)
    lam = GroupLikelihood(group)
    a = SteerableConv(group.trivial_rep(), group.regular_rep(), likelihood=lam)
    b = SteerableConv(group.regular_rep(), group.trivial_rep(), likelihood=lam)
    assert a.likelihood is b.likelihood
    names = [n for n, _ in torch.nn.Sequential(a, b).named_parameters() if "coefficients" in n]
    assert names == ["0.likelihood.coefficients"]  # one set of coefficients


def test_bad_input():
    group = Dihedral(4)
    rep = group.regular_rep()
    with pytest.raises(ValueError, match="SteerableConv: likelihood is over D6, which is not a subgroup of D4"):
        SteerableConv(rep, rep, likelihood=GroupLikelihood(Dihedral(6)))
    with pytest.raises(ValueError, match="not a subgroup of D4"):
        ImplicitSteerableConv(rep, rep, likelihood=GroupLikelihood(Octahedral()))
    with pytest.raises(TypeError, match="SteerableConv: likelihood must be a GroupLikelihood"):
        SteerableConv(rep, rep, likelihood="uniform")
    so2 = SO2()
    with pytest.raises(ValueError, match="does not integrate frequency 4 exactly; the kernel needs up to 6"):
        SteerableConv(Rep(so2, so2.irreps(2)), Rep(so2, so2.irreps(2)), max_frequency=2,
                      likelihood=GroupLikelihood(so2, max_frequency=1, grid_size=4))
    conv = SteerableConv(rep, rep)
    with pytest.raises(ValueError, match="kernel_weight exists only with a likelihood"):
        conv.kernel_weight()


def test_uniform_weights_project_onto_the_equivariant_maps():
    group = Dihedral(4)
    rep_in, rep_out, _ = setup(group)
    conv = build(SteerableConv, rep_in, rep_out, GroupLikelihood(group).double())
    w0 = conv.relaxed_weight.detach().clone()
    uniform = torch.full((8,), 1 / 8, dtype=torch.float64)
    projected = conv.kernel_weight(uniform).detach()
    share = float((w0 - projected).square().sum() / w0.square().sum())
    assert 0.5 < share < 1.0  # a random map is mostly not equivariant
    with torch.no_grad():
        conv.relaxed_weight.copy_(projected)
    assert torch.allclose(conv.kernel_weight(uniform), projected, rtol=0, atol=1e-13)  # idempotent
    with pytest.raises(ValueError, match="weights must be \\[8\\]"):
        conv.kernel_weight(uniform[:4])
