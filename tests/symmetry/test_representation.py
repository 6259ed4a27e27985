import pytest
import torch

from topoequi.symmetry import SO3, Rep, decompose, group_from_name, irreps_rep

TOL = 1e-10


def test_direct_sum_and_multiplicity():
    G = SO3()
    rho = irreps_rep(G, [((0,), 16), ((1,), 8)])
    assert rho.dim == 40 and rho.num_invariants == 16
    assert G.standard_rep.change_of_basis is None  # D^1(R) = R in the real spherical-harmonics basis
    q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5)))[0]
    rotated = Rep(G, [G.irrep(1)], q)
    both = rho + rotated
    assert both.dim == 43 and both.change_of_basis is not None
    g = G.sample(3, generator=torch.Generator().manual_seed(0))
    m = both.matrices(g)
    assert (m[:, :40, :40] - rho.matrices(g)).abs().max() == 0
    assert (m[:, 40:, 40:] - q @ g @ q.T).abs().max() < TOL
    assert (m[:, :40, 40:]).abs().max() == 0
    assert (2 * G.standard_rep).dim == 6 and (G.standard_rep * 0).dim == 0
    assert rho.invariant_basis().shape == (40, 16)


def test_invariant_basis_is_invariant(group):
    rep = group.standard_rep + group.trivial_rep(2) + group.regular_rep(None if group.is_finite else 1)
    basis = rep.invariant_basis()
    g = group.sample(5, generator=torch.Generator().manual_seed(1))
    assert (rep.matrices(g) @ basis - basis).abs().max() < TOL
    assert basis.shape[1] == rep.num_invariants >= 3


def test_irreps_basis_round_trip():
    rep = SO3().standard_rep
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.allclose(rep.from_irreps_basis(rep.to_irreps_basis(x)), x, atol=1e-15)


def test_restriction_of_the_defining_action(group):
    # the standard action of O(d) restricted to any subgroup is that subgroup's standard action
    parent = group_from_name("O(2)" if group.d == 2 else "O(3)")
    restricted = parent.standard_rep.restrict(group)
    g = group.sample(6, generator=torch.Generator().manual_seed(2))
    assert (restricted.matrices(g) - g).abs().max() < TOL
    assert sum(m * psi.dim for psi, m in restricted.irreps) == group.d


def test_restriction_counts_known_multiplicities():
    # SO(3) irrep l=2 restricted to the octahedral group splits as E + T2
    octa = group_from_name("O")
    rep = Rep(SO3(), [SO3().irrep(2)]).restrict(octa)
    assert sorted(psi.id[0] for psi, _ in rep.irreps) == ["E", "T2"]
    # l=3 -> A2 + T1 + T2
    rep = Rep(SO3(), [SO3().irrep(3)]).restrict(octa)
    assert sorted(psi.id[0] for psi, _ in rep.irreps) == ["A2", "T1", "T2"]
    # SO(3) l=1 restricted to SO(2) about z: frequencies 0 and 1
    rep = Rep(SO3(), [SO3().irrep(1)]).restrict(group_from_name("SO(2)@R3"))
    assert [(psi.id, m) for psi, m in rep.irreps] == [((0,), 1), ((1,), 1)]


def test_bad_input_is_named():
    G = SO3()
    with pytest.raises(ValueError, match="not an irrep of SO\\(3\\)"):
        Rep(G, [group_from_name("O(3)").irrep(1, 1)])
    with pytest.raises(ValueError, match="must be orthogonal"):
        Rep(G, [G.irrep(1)], torch.ones(3, 3))
    with pytest.raises(ValueError, match="is not a subgroup"):
        G.standard_rep.restrict(group_from_name("O(3)"))
    with pytest.raises(ValueError, match="last dimension 3"):
        G.standard_rep.check_features(torch.zeros(4, 2), "pos")
    with pytest.raises(ValueError, match="is the map a representation"):
        decompose(G, lambda g: g @ g, 3, max_frequency=3)
