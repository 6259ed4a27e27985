import pytest
import torch

from topoequi.symmetry import SO3, MulIrrep, Rep, decompose, group_from_name

TOL = 1e-10


def test_direct_sum_and_multiplicity():
    G = SO3()
    rho = Rep.from_irreps(G, [(16, (0,)), (8, (1,))])
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


def test_entries_iterate_index_and_slice_as_e3nn():
    rep = Rep("16x0e+8x1o+2x2e")
    o3 = rep.group
    assert len(rep) == 3 and [(m, psi.label) for m, psi in rep] == [(16, "0e"), (8, "1o"), (2, "2e")]
    assert rep[1] == MulIrrep(8, o3.parse_irrep("1o")) and rep[-1].mul == 2 and str(rep[1]) == "8x1o"
    assert rep[1:] == Rep("8x1o+2x2e") and rep[::2] == Rep("16x0e+2x2e")
    assert o3.parse_irrep("1o") in rep and o3.parse_irrep("1e") not in rep
    assert rep.slices() == [slice(0, 16), slice(16, 40), slice(40, 50)]
    g = o3.sample(2, generator=torch.Generator().manual_seed(3))
    m = rep.matrices(g)
    for s, (mul, psi) in zip(rep.slices(), rep):  # each slice transforms by its own block
        assert (m[0, s, s] - torch.block_diag(*[psi.matrices(g)[0]] * mul)).abs().max() < TOL
    with pytest.raises(ValueError, match="cannot slice .* change of basis"):
        group_from_name("SO(2)@R3").standard_rep[1:]


def test_copies_print_and_act_as_direct_sums():
    rep = Rep("16x0e+8x1o")
    double = rep * 2
    assert str(double) == "32x0e+16x1o" and double == 2 * rep and double.dim == 2 * rep.dim
    assert str(rep.repeat(2)) == "16x0e+8x1o+16x0e+8x1o" == str(rep + rep) and rep.repeat(2) == rep + rep
    assert rep.repeat(2).simplify() == rep.repeat(2) and str(Rep("16x0e").repeat(2).simplify()) == "32x0e"
    assert str(Rep("1x0e+1x0e+2x1o+1x1o+1x0e").simplify()) == "2x0e+3x1o+1x0e"
    axial = group_from_name("SO(2)@R3")
    std = axial.standard_rep
    assert std.repeat(3) == std + std + std and str(std * 3) == "3x0+3x1 (with change of basis)"
    g = axial.sample(4, generator=torch.Generator().manual_seed(1))
    for copies in (std * 3, std.repeat(3)):  # both act as three blocks of the standard action
        assert ((copies.matrices(g) - torch.block_diag(g[0], g[0], g[0])).abs()[0].max()) < TOL
    assert len(std.repeat(3).simplify()) == len(std) * 3 and len(std * 3) == len(std)
    assert str(std) == "1x0+1x1 (with change of basis)"
    assert repr(Rep("2x0e+1x1o")) == "Rep('O(3)', '2x0e+1x1o')"
    assert eval(repr(Rep("D4", "2x0e+1x2o")), {"Rep": Rep}) == Rep("D4", "2x0e+1x2o")


def test_randn_and_constructors():
    rep = Rep("SO(2)", "3x0+2x1")
    x = rep.randn(4, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert x.shape == (4, 5, 7) and x.dtype == torch.float64
    assert torch.equal(x, rep.randn(4, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    so2 = rep.group
    assert Rep.trivial(so2, 3) == so2.trivial_rep(3) == Rep(so2, "3x0")
    assert Rep.standard(so2) == so2.standard_rep == Rep(so2, "1x1")
    assert Rep.regular(so2, 2) == so2.regular_rep(2) == Rep(so2, "1x0+1x1+1x2")
    assert rep == Rep.from_irreps("SO(2)", [(3, (0,)), (2, "1")]) == Rep(so2, [(3, so2.irreps(1)[0]), (2, "1")])
    assert Rep.cast("3x0+2x1", "SO(2)") == rep and Rep.cast(rep, so2) is rep
    with pytest.raises(ValueError, match="expected a representation of O\\(2\\), got one of SO\\(2\\)"):
        Rep.cast(rep, "O(2)")
    with pytest.raises(TypeError, match="group must be a topoequi Group or its name, got int"):
        Rep(3, "1x0")
    with pytest.raises(ValueError, match="unknown group 'SO\\(4\\)'"):
        Rep("SO(4)", "1x0")
