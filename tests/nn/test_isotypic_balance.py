"""IsotypicBalance: exact isotypic decomposition, fixed proportions, uniform lambda = the equivariant layer,
a subgroup-uniform lambda = full-strength subgroup equivariance, gradients, bad input."""
import pytest
import torch
from torch.nn.utils import parametrize

from topoequi.nn import GroupLikelihood, SteerableConv
from topoequi.nn.isotypic_balance import IsotypicBalance
from topoequi.symmetry import O2, Cyclic, Dihedral
from topoequi.testing import equivariance_error

D4 = Dihedral(4)


def relaxed(likelihood, group=D4, seed=0):
    torch.manual_seed(seed)
    rep = group.regular_rep() if group.is_finite else group.standard_rep
    return SteerableConv(rep, rep * 2, cutoff=3.0, max_frequency=2, likelihood=likelihood).double()


def graph(d=2, n=10, e=36, channels=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, channels, generator=gen, dtype=torch.float64),
            torch.randn(n, d, generator=gen, dtype=torch.float64) * 1.5, torch.randint(n, (2, e), generator=gen)]


@pytest.mark.parametrize("group", [D4, Cyclic(4), Dihedral(3), Cyclic(1)])
def test_components_decompose_the_map_and_keep_random_proportions(group):
    conv = relaxed(GroupLikelihood(group), group=group)
    balance = IsotypicBalance(conv).double()
    v = conv.relaxed_weight.detach().clone()
    parts = balance.components(v)
    assert torch.allclose(parts.sum(0), v, rtol=0, atol=1e-13)  # the projectors sum to the identity
    for i in range(parts.shape[0]):  # orthogonal projectors: the components are fixed points, mutually orthogonal
        assert torch.allclose(balance.components(parts[i])[i], parts[i], rtol=0, atol=1e-13)
        for j in range(i):
            assert abs(float((parts[i] * parts[j]).sum())) < 1e-12
    w0 = balance(v)
    energy, ranks = balance.block_energies(w0), balance.ranks
    assert energy.shape == ranks.shape == (len(balance.projector), balance.blocks.shape[0])
    assert torch.allclose(balance.blocks.sum(0), torch.ones(conv.out_rep.dim, dtype=torch.float64))
    assert torch.allclose(energy / energy[:1], ranks / ranks[:1], rtol=1e-12, atol=0)  # per output block
    assert torch.allclose(balance.components(w0)[0], parts[0], rtol=0, atol=1e-13)  # equivariant part untouched
    if group == D4:  # 2 x regular: 2 x (4 one-dim + 2 copies of the two-dim irrep)
        assert balance.blocks.shape[0] == 12 and (ranks > 0).all()
        assert sorted(balance.blocks.sum(1).tolist()) == [1.0] * 8 + [2.0] * 4
    if group.order == 1:
        assert torch.equal(w0, v)


def test_uniform_and_subgroup_likelihoods():
    lam = GroupLikelihood(D4).double()
    conv = relaxed(lam)
    v = conv.relaxed_weight.detach().clone()
    balance = IsotypicBalance(conv).double()
    parametrize.register_parametrization(conv, "relaxed_weight", balance)
    rep, args = conv.in_rep, graph()
    # uniform: the projection of V onto the D4-equivariant maps, an exactly equivariant layer
    assert torch.allclose(conv.kernel_weight(), balance.components(v)[0], rtol=0, atol=1e-14)
    err = equivariance_error(conv, args, [rep, "pos", None], conv.out_rep, elements=D4.elements())
    assert max(err) / conv(*args).abs().max() < 1e-12
    # uniform on C4: exactly C4-equivariant, and the mirror-breaking component is at its full norm
    lam.concentrate_on(Cyclic(4), sharpness=40.0)
    rotations, mirrors = D4.elements()[:4], D4.elements()[4:]
    scale = conv(*args).abs().max()
    assert max(equivariance_error(conv, args, [rep, "pos", None], conv.out_rep, elements=rotations)) / scale < 1e-12
    assert min(equivariance_error(conv, args, [rep, "pos", None], conv.out_rep, elements=mirrors)) / scale > 1e-2
    with torch.no_grad():
        kept = balance.components(conv.kernel_weight()).flatten(1).norm(dim=1)
        full = balance.components(conv.relaxed_weight).flatten(1).norm(dim=1)
    det = [k for k in range(1, 5) if torch.allclose(kept[k], full[k], rtol=1e-12)]
    assert len(det) == 1 and float(kept[det[0]]) == pytest.approx(float(kept[0]), rel=1e-12)
    assert float(kept.square().sum()) == pytest.approx(2 * float(kept[0]) ** 2, rel=1e-12)  # the rest is averaged away


@pytest.mark.parametrize("group", [D4, Dihedral(3)])
def test_the_parametrization_commutes_with_the_group(group):
    """balance(g . V) = g . balance(V), g . W = rho_out(g) W (rho_h(g) x rho_in(g))^-1 (float64), so it keeps
    the G-equivariant maps and the group acts on the relaxed layer as before."""
    conv = relaxed(GroupLikelihood(group), group=group)
    balance = IsotypicBalance(conv).double()
    v = torch.randn(conv.relaxed_weight.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

    def act(s, w):  # the grid's s-th element on a map, as in SteerableMessagePassing.kernel_weight
        t = torch.einsum("oO,Oab->oab", balance.rho_out[s].double(), w)
        t = torch.einsum("aA,oAb->oab", balance.rho_kernel[s].double(), t)
        return torch.einsum("bB,oaB->oab", balance.rho_in[s].double(), t)

    w0 = balance(v)
    for s in range(group.order):
        assert torch.allclose(balance(act(s, v)), act(s, w0), rtol=0, atol=1e-12 * float(w0.abs().max()))
    assert float((act(1, w0) - w0).abs().max()) > 1e-3  # W_0 itself is not equivariant


def test_gradients_match_finite_differences():
    conv = relaxed(GroupLikelihood(D4))
    balance = IsotypicBalance(conv).double()
    v = conv.relaxed_weight.detach().clone().requires_grad_(True)
    probe = torch.randn(v.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    (balance(v) * probe).sum().backward()
    gen = torch.Generator().manual_seed(2)
    for _ in range(6):
        direction = torch.randn(v.shape, generator=gen, dtype=torch.float64)
        eps = 1e-6
        with torch.no_grad():
            numeric = float(((balance(v + eps * direction) - balance(v - eps * direction)) * probe).sum()) / (2 * eps)
        assert float((v.grad * direction).sum()) == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_blocks_without_some_components_keep_finite_gradients():
    """Invariant input: some output copies (the sign irreps) have no equivariant maps and miss components."""
    torch.manual_seed(0)
    conv = SteerableConv(D4.trivial_rep(1), D4.regular_rep(), cutoff=3.0, max_frequency=2,
                         likelihood=GroupLikelihood(D4)).double()
    balance = IsotypicBalance(conv).double()
    assert (balance.ranks[0] == 0).any() and (balance.ranks == 0).any()
    v = conv.relaxed_weight.detach().clone().requires_grad_(True)
    w0 = balance(v)
    energy = balance.block_energies(w0.detach())
    without = balance.ranks[0] == 0  # these blocks get the mean energy per dimension of the others
    mean = energy[0].sum() / balance.ranks[0].sum()
    assert torch.allclose(energy[:, without], balance.ranks[:, without] * mean, rtol=1e-12, atol=1e-20)
    w0.square().sum().backward()
    assert torch.isfinite(v.grad).all() and v.grad.abs().max() > 0


def test_bad_input():
    torch.manual_seed(0)
    plain = SteerableConv(D4.regular_rep(), D4.regular_rep(), cutoff=3.0)
    with pytest.raises(ValueError, match="is not a relaxed steerable convolution"):
        IsotypicBalance(plain)
    with pytest.raises(ValueError, match=r"the likelihood's group O\(2\) must be finite"):
        IsotypicBalance(relaxed(GroupLikelihood(O2(), max_frequency=2, grid_size=64), group=O2()))
