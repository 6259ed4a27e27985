import pytest
import torch

from topoequi.symmetry import (
    SO3,
    Rep,
    clebsch_gordan,
    endomorphism_basis,
    group_from_name,
    hom_basis,
    tensor_product,
)

TOL = 1e-10


def draws(group, n, seed):
    return group.sample(n, generator=torch.Generator().manual_seed(seed))


def irreps_of(group, max_frequency=2):
    return group.irreps(None if group.is_finite else max_frequency)


def test_hom_basis_commutes_with_the_representations(group):
    irreps = irreps_of(group)
    rep_in = Rep(group, [(psi, 2) for psi in irreps]) + group.standard_rep
    rep_out = group.standard_rep + Rep(group, [(psi, 1) for psi in irreps])
    basis = hom_basis(rep_in, rep_out)
    expected = sum(2 * psi.type_dim for psi in irreps)  # (2 + 1 copies) x (1 copy): 2 maps per End element
    expected += sum(m_in * m_out * psi.type_dim for psi, m_out in group.standard_rep.irreps
                    for q, m_in in group.standard_rep.irreps if q == psi)  # std -> std
    expected += sum(psi.type_dim * m for psi, m in group.standard_rep.irreps)  # std (in) -> irreps (out)
    expected += sum(2 * psi.type_dim * m for psi, m in group.standard_rep.irreps)  # irreps (in) -> std (out)
    assert basis.shape == (expected, rep_out.dim, rep_in.dim)
    g = draws(group, 6, 0)
    lhs = torch.einsum("zij,njk->znik", rep_out.matrices(g), basis)
    rhs = torch.einsum("nij,zjk->znik", basis, rep_in.matrices(g))
    assert (lhs - rhs).abs().max() < TOL
    gram = basis.flatten(1) @ basis.flatten(1).T  # linearly independent
    assert torch.linalg.matrix_rank(gram) == basis.shape[0]


def test_hom_basis_is_complete_against_brute_force():
    # dimension of Hom = dimension of the numerically solved commutant
    from topoequi.symmetry import intertwiner_basis

    for name in ["SO(2)", "D4", "O(3)", "Cs"]:
        group = group_from_name(name)
        rep = group.standard_rep + group.regular_rep(None if group.is_finite else 1)
        brute = intertwiner_basis(rep.matrices, rep.matrices, group)
        assert brute.shape[0] == hom_basis(rep, rep).shape[0]


def test_endomorphisms_identity_first_and_complex_structure():
    psi = group_from_name("SO(2)").irrep(2)
    ends = endomorphism_basis(psi)
    assert torch.equal(ends[0], torch.eye(2, dtype=torch.float64))
    j = ends[1]
    assert (j @ j + torch.eye(2, dtype=torch.float64)).abs().max() < TOL  # J^2 = -1
    assert endomorphism_basis(SO3().irrep(3)).shape == (1, 7, 7)


def test_clebsch_gordan_maps_intertwine(group):
    irreps = irreps_of(group)[:6]
    g = draws(group, 5, 1)
    mats = {psi: psi.matrices(g) for psi in irreps}
    count = 0
    for a in irreps:
        for b in irreps:
            for c in irreps:
                cg = clebsch_gordan(a, b, c)
                if not cg.shape[0]:
                    continue
                lhs = torch.einsum("zkc,ncab->znkab", mats[c], cg)
                rhs = torch.einsum("nkij,zia,zjb->znkab", cg, mats[a], mats[b])
                assert (lhs - rhs).abs().max() < TOL, (a, b, c)
                flat = cg.reshape(cg.shape[0], c.dim, -1)
                assert (flat @ flat.transpose(1, 2) - torch.eye(c.dim, dtype=torch.float64)).abs().max() < TOL
                count += cg.shape[0]
    assert count > 0


def test_so3_clebsch_gordan_selection_rule():
    G = SO3()
    for l1 in range(3):
        for l2 in range(3):
            for l3 in range(5):
                n = clebsch_gordan(G.irrep(l1), G.irrep(l2), G.irrep(l3)).shape[0]
                assert n == int(abs(l1 - l2) <= l3 <= l1 + l2), (l1, l2, l3)
    O3 = group_from_name("O(3)")
    # parity: 1o x 1o contains 0e, 1e, 2e but no odd irrep
    assert clebsch_gordan(O3.irrep(1, 1), O3.irrep(1, 1), O3.irrep(1, 0)).shape[0] == 1
    assert clebsch_gordan(O3.irrep(1, 1), O3.irrep(1, 1), O3.irrep(1, 1)).shape[0] == 0


def test_tensor_product_decomposition():
    G = SO3()
    v = Rep(G, "1x1")
    prod = tensor_product(v, v)
    assert [(psi.id, m) for psi, m in prod.irreps] == [((0,), 1), ((1,), 1), ((2,), 1)]
    g = draws(G, 4, 2)
    kron = torch.einsum("bij,bkl->bikjl", v.matrices(g), v.matrices(g)).reshape(4, 9, 9)
    assert (prod.matrices(g) - kron).abs().max() < TOL
    so2 = group_from_name("SO(2)")
    p = tensor_product(Rep(so2, "1x1"), Rep(so2, "1x2"))
    assert sorted(psi.id[0] for psi, _ in p.irreps) == [1, 3]


def test_mismatched_groups_are_rejected():
    with pytest.raises(ValueError, match="different groups"):
        hom_basis(SO3().standard_rep, group_from_name("O(3)").standard_rep)
