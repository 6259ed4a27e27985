"""GroupLikelihood: uniform start, normalization and KL against numerical integration, subgroups, gradients."""
import math

import pytest
import torch

from topoequi.nn import GroupLikelihood, kl_divergence, likelihood_kl_chain
from topoequi.symmetry import O2, SO2, Cyclic, Dihedral, Octahedral, group_from_name


def scalar(t) -> float:
    """A Python float of a (possibly differentiable) scalar tensor."""
    return float(t.detach())


def randomized(lam: GroupLikelihood, seed: int, scale: float = 0.7) -> GroupLikelihood:
    with torch.no_grad():
        lam.coefficients.copy_(torch.randn(lam.coefficients.shape, generator=torch.Generator().manual_seed(seed),
                                           dtype=torch.float64) * scale)
    return lam


@pytest.mark.parametrize("name, L", [("SO(2)", 3), ("O(2)", 2), ("D6", None), ("O", None), ("Oh", None)])
def test_uniform_at_initialization(name, L):
    lam = GroupLikelihood(group_from_name(name), max_frequency=L).double()
    w = lam.weights()
    assert torch.allclose(w, torch.full_like(w, 1.0 / lam.num_samples), rtol=0, atol=1e-15)
    assert torch.allclose(lam.density(), torch.ones_like(w), rtol=0, atol=1e-14)
    assert abs(scalar(kl_divergence(lam, None))) < 1e-14
    assert scalar(lam.alignment()) == 0.0
    assert scalar(lam.density_coefficients()[lam.trivial_index]) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("group, L", [(SO2(), 2), (O2(), 2)])
def test_normalization_and_kl_match_fine_grid_integration_continuous(group, L):
    # grid of 64 rotations per component: exp of a band-limited function is resolved to rounding
    p = randomized(GroupLikelihood(group, max_frequency=L, grid_size=64 * (2 if group.has_reflections else 1)), 0)
    q = randomized(GroupLikelihood(group, max_frequency=L, grid_size=p.num_samples), 1)
    p, q = p.double(), q.double()
    fine = group.grid(4000 if group.has_reflections else 2000)  # Haar mean = average over the fine grid
    dp, dq = p.density(fine), q.density(fine)
    assert scalar(dp.mean()) == pytest.approx(1.0, abs=1e-12)
    assert scalar(dq.mean()) == pytest.approx(1.0, abs=1e-12)
    kl_fine = scalar((dp * (dp.log() - dq.log())).mean())
    assert scalar(kl_divergence(p, q)) == pytest.approx(kl_fine, abs=1e-12)
    assert scalar(kl_divergence(p, None)) == pytest.approx(scalar((dp * dp.log()).mean()), abs=1e-12)
    assert kl_fine > 0.05  # a real test: the densities differ
    # the default grid 4 (L + 1) per component: spectrally accurate, not exact
    coarse = randomized(GroupLikelihood(group, max_frequency=L).double(), 0)
    assert scalar(coarse.density(fine).mean()) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("group", [Dihedral(6), Octahedral(), group_from_name("Oh")])
def test_kl_is_the_exact_sum_over_a_finite_group(group):
    p = randomized(GroupLikelihood(group).double(), 2)
    q = randomized(GroupLikelihood(group).double(), 3)
    dp, dq = p.density(group.elements()), q.density(group.elements())
    assert scalar(dp.mean()) == pytest.approx(1.0, abs=1e-13)
    assert scalar(kl_divergence(p, q)) == pytest.approx(scalar((dp * (dp / dq).log()).mean()), abs=1e-13)
    assert scalar(p.entropy()) == pytest.approx(-scalar((dp * dp.log()).mean()), abs=1e-13)


def test_kl_chain_and_gradients():
    group = Dihedral(4)
    a, b = randomized(GroupLikelihood(group).double(), 4), randomized(GroupLikelihood(group).double(), 5)
    chain = likelihood_kl_chain([a, b, b])  # a shared module repeated adds nothing
    assert scalar(chain) == pytest.approx(scalar(kl_divergence(a, None) + kl_divergence(b, a)), abs=1e-14)
    chain.backward()
    assert a.coefficients.grad.abs().max() > 1e-3 and b.coefficients.grad.abs().max() > 1e-3
    # analytic gradients of the Fourier-domain KL and of the weights
    p = randomized(GroupLikelihood(SO2(), max_frequency=2).double(), 6)
    q = randomized(GroupLikelihood(SO2(), max_frequency=2).double(), 7)

    def kl_of(cp, cq):
        with torch.no_grad():
            p.coefficients.copy_(cp)
            q.coefficients.copy_(cq)
        p.coefficients.grad = q.coefficients.grad = None
        return kl_divergence(p, q)

    cp, cq = p.coefficients.detach().clone(), q.coefficients.detach().clone()
    kl_of(cp, cq).backward()
    grad = p.coefficients.grad.clone()
    eps = 1e-6
    for i in range(cp.numel()):
        step = torch.zeros_like(cp)
        step[i] = eps
        numeric = (scalar(kl_of(cp + step, cq)) - scalar(kl_of(cp - step, cq))) / (2 * eps)
        assert grad[i].item() == pytest.approx(numeric, abs=1e-7)


@pytest.mark.parametrize("group, L, sub", [(Dihedral(8), None, Cyclic(4)), (O2(), 4, Dihedral(4)),
                                           (O2(), 4, Cyclic(4)), (SO2(), 4, Cyclic(4)),
                                           (group_from_name("Oh"), None, Octahedral()), (Dihedral(4), None, Cyclic(1))])
def test_concentrate_on_a_subgroup(group, L, sub):
    lam = GroupLikelihood(group, max_frequency=L).double().concentrate_on(sub, sharpness=40.0)
    assert scalar(lam.subgroup_mass(sub)) == pytest.approx(1.0, abs=1e-12)
    inside = lam.weights()[lam.subgroup_mask(sub)]
    order = sub.order
    assert torch.allclose(inside, torch.full_like(inside, 1.0 / order), atol=1e-12)  # uniform on H
    assert scalar(lam.alignment()) < 1e-12  # the identity is a mode
    assert scalar(kl_divergence(lam, None)) == pytest.approx(math.log(lam.num_samples / order), abs=1e-9)


@pytest.mark.parametrize("group, L", [(Dihedral(4), None), (O2(), 2)])
def test_shrink_is_the_group_lasso_proximal_step(group, L):
    lam = randomized(GroupLikelihood(group, max_frequency=L).double(), 3, scale=0.3)
    c = lam.coefficients.detach().clone()
    blocks = [(psi, slice(start, start + psi.dim * mult)) for psi, start, mult in lam.rep.entries()]
    norms = {str(psi): float(c[b].norm()) / math.sqrt(b.stop - b.start) for psi, b in blocks}  # per sqrt(size)
    a = sorted(norms.values())[len(norms) // 2]  # about half of the blocks vanish
    x = lam.shrink_(a).coefficients.detach().clone()
    for psi, b in blocks:
        n = norms[str(psi)]
        expected = c[b] if psi.is_trivial else c[b] * max(0.0, 1 - a / n)  # n, a both per sqrt(size)
        assert torch.equal(x[b], expected) or torch.allclose(x[b], expected, rtol=1e-15, atol=0)
        assert psi.is_trivial or (n > a) == bool(x[b].abs().max() > 0)

    def objective(y):  # 1/2 ||y - c||^2 + a sum_{psi != 1} sqrt(size) ||y_psi||
        return 0.5 * float((y - c).square().sum()) + a * sum(math.sqrt(b.stop - b.start) * float(y[b].norm())
                                                             for psi, b in blocks if not psi.is_trivial)

    gen = torch.Generator().manual_seed(0)
    for _ in range(20):  # the proximal point minimizes the (convex) objective
        assert objective(x) <= objective(x + 1e-3 * torch.randn(x.shape, generator=gen, dtype=torch.float64))
    with pytest.raises(ValueError, match="amount must be a non-negative float"):
        lam.shrink_(-0.1)


def test_shrink_to_the_sign_of_the_reflections_gives_a_rotation_equivariant_layer():
    """Only the det block left: lambda is constant on C4 and on the mirrors, so the layer is exactly
    C4-equivariant for every mass on C4, and not D4-equivariant."""
    from topoequi.nn import SteerableConv
    from topoequi.testing import assert_equivariant, equivariance_error

    group = Dihedral(4)
    lam = randomized(GroupLikelihood(group).double(), 4, scale=0.1)
    rotation, mirror = group.elements()[1:2], group.elements()[4:5]
    det = next(start for psi, start, _ in lam.rep.entries() if psi.dim == 1 and not psi.is_trivial
               and float(psi.matrices(rotation)[0, 0, 0]) == 1.0 and float(psi.matrices(mirror)[0, 0, 0]) == -1.0)
    with torch.no_grad():
        lam.coefficients[det] = 0.8
    lam.shrink_(0.3)
    assert scalar(lam.subgroup_mass(Cyclic(4))) > 0.6
    w = lam.weights().detach()
    rotations = Cyclic(4).contains(lam.grid)
    assert torch.allclose(w[rotations], w[rotations][:1], rtol=1e-14) and torch.allclose(w[~rotations],
                                                                                       w[~rotations][:1], rtol=1e-14)
    torch.manual_seed(0)
    rep = group.regular_rep()
    conv = SteerableConv(rep, rep, cutoff=3.0, max_frequency=2, likelihood=lam).double()
    gen = torch.Generator().manual_seed(0)
    args = [torch.randn(10, rep.dim, generator=gen, dtype=torch.float64),
            torch.randn(10, 2, generator=gen, dtype=torch.float64) * 1.5, torch.randint(10, (2, 36), generator=gen)]
    assert_equivariant(conv, args, [rep, "pos", None], rep, elements=group.elements()[:4])
    scale = float(conv(*args).detach().abs().max())
    assert max(equivariance_error(conv, args, [rep, "pos", None], rep, elements=group.elements()[:4])) < 1e-12 * scale
    assert min(equivariance_error(conv, args, [rep, "pos", None], rep, elements=group.elements()[4:])) > 1e-3 * scale


@pytest.mark.parametrize("group, L, sub", [(Dihedral(4), None, Cyclic(4)), (O2(), 2, SO2())])
def test_entropy_descent_concentrates_on_the_subgroup_lambda_is_invariant_under(group, L, sub):
    """Entropy is invariant under translations, so its gradient flow keeps lambda constant on the cosets
    of H (logits: trivial + det only; the other irreps get exactly zero gradient) and ends at the
    minimum-entropy density of that kind: the Haar measure of H, entropy -log[G : H] = -log 2. (Away
    from uniform the flow is unstable in every direction, so rounding in a grid's quadrature would grow;
    a tiny group-lasso step, as in training, keeps those irreps at exactly zero.)"""
    lam = GroupLikelihood(group, max_frequency=L).double()
    det = next(start for psi, start, _ in lam.rep.entries() if psi.dim == 1 and not psi.is_trivial
               and torch.allclose(psi.matrices(lam.grid)[:, 0, 0], torch.linalg.det(lam.grid)))
    with torch.no_grad():
        lam.coefficients[det] = 0.05
    assert scalar(lam.subgroup_mass(sub)) < 0.53
    optimizer = torch.optim.SGD(lam.parameters(), lr=2.0)
    for _ in range(300):
        optimizer.zero_grad()
        lam.entropy().backward()
        others = torch.ones_like(lam.coefficients, dtype=torch.bool)
        others[[det, lam.trivial_index]] = False
        assert float(lam.coefficients.grad[others].abs().max()) < 1e-12
        optimizer.step()
        lam.shrink_(1e-9)
    assert scalar(lam.subgroup_mass(sub)) > 0.999
    assert scalar(lam.entropy()) == pytest.approx(-math.log(2), abs=1e-3)
    w, inside = lam.weights().detach(), sub.contains(lam.grid)
    assert torch.allclose(w[inside], w[inside][:1], rtol=1e-13)


def test_entropy_has_a_stationary_maximum_at_uniform():
    lam = GroupLikelihood(Dihedral(4)).double()
    lam.entropy().backward()
    assert abs(scalar(lam.entropy())) < 1e-15 and float(lam.coefficients.grad.abs().max()) < 1e-15


def test_alignment_is_positive_when_the_identity_is_not_a_mode():
    group = Dihedral(4)
    lam = GroupLikelihood(group).double()
    with torch.no_grad():  # logits: +1 on the mirrors, -1 on the rotations
        sign = next(psi for psi in group.irreps() if psi.dim == 1 and not psi.is_trivial
                    and bool((psi.matrices(group.elements())[:, 0, 0] == torch.linalg.det(group.elements())).all()))
        lam.coefficients.zero_()
        start = next(s for psi, s, _ in lam.rep.entries() if psi == sign)
        lam.coefficients[start] = -1.0
    assert scalar(lam.alignment()) == pytest.approx(2.0, abs=1e-12)
    assert scalar(lam.subgroup_mass(Cyclic(4))) == pytest.approx(1 / (1 + math.e**2), abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="max_frequency=5 is beyond what the 8 elements of D4 resolve"):
        GroupLikelihood(Dihedral(4), max_frequency=5)
    with pytest.raises(ValueError, match="beyond what the grid of 5 elements"):
        GroupLikelihood(SO2(), max_frequency=3, grid_size=5)
    with pytest.raises(ValueError, match="max_frequency is required"):
        GroupLikelihood(O2())
    with pytest.raises(ValueError, match="grid_size must be None or 8"):
        GroupLikelihood(Dihedral(4), grid_size=16)
    with pytest.raises(TypeError, match="group must be a topoequi Group"):
        GroupLikelihood("D4")
    lam = GroupLikelihood(Dihedral(4))
    with pytest.raises(ValueError, match="D4 has no subgroup C3"):
        lam.concentrate_on(Cyclic(3))
    with pytest.raises(ValueError, match="has no subgroup"):
        lam.concentrate_on(Octahedral())
    with pytest.raises(ValueError, match="cannot concentrate on D4"):
        GroupLikelihood(O2(), max_frequency=2).concentrate_on(Dihedral(4))
    with pytest.raises(ValueError, match="holds 1 of the 3 elements of C3; use a finer grid"):
        GroupLikelihood(SO2(), max_frequency=3).concentrate_on(Cyclic(3))
    with pytest.raises(ValueError, match="sharpness must be a positive float"):
        lam.concentrate_on(Cyclic(2), sharpness=-1.0)
    with pytest.raises(ValueError, match="must share group"):
        kl_divergence(lam, GroupLikelihood(Dihedral(8)))
    with pytest.raises(ValueError, match="at least one GroupLikelihood"):
        likelihood_kl_chain([])
