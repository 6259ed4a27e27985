"""Groups: irreps are homomorphisms, orthogonal and irreducible; samples, membership, names, pickling."""

import pytest
import torch

from topoequi.symmetry import SO3, Cyclic, group_from_name


def draws(group, n, seed):
    return group.sample(n, generator=torch.Generator().manual_seed(seed))


def irreps_of(group, max_frequency=3):
    return group.irreps(None if group.is_finite else max_frequency)

TOL = 1e-10


def test_homomorphism_and_orthogonality_of_every_irrep(group):
    g1, g2 = draws(group, 16, 0), draws(group, 16, 1)
    for psi in irreps_of(group):
        d1, d2, d12 = psi.matrices(g1), psi.matrices(g2), psi.matrices(g1 @ g2)
        assert d12.shape == (16, psi.dim, psi.dim)
        assert (d12 - d1 @ d2).abs().max() < TOL, psi
        eye = torch.eye(psi.dim, dtype=torch.float64)
        assert (d1 @ d1.transpose(1, 2) - eye).abs().max() < TOL, psi
        assert (psi.matrices(group.identity(1)) - eye).abs().max() < TOL, psi


def test_irreps_are_distinct_and_irreducible_by_characters():
    # On finite groups, <chi_a, chi_b> = type_dim * delta_ab exactly (Schur orthogonality).
    for name in ["C5", "C8", "D3", "D6", "O", "Oh", "Ci", "Cs", "D4@R3"]:
        group = group_from_name(name)
        g = group.elements()
        chars = torch.stack([torch.diagonal(psi.matrices(g), dim1=1, dim2=2).sum(-1) for psi in group.irreps()])
        gram = chars @ chars.T / group.order
        expected = torch.diag(torch.tensor([float(psi.type_dim) for psi in group.irreps()], dtype=torch.float64))
        assert (gram - expected).abs().max() < TOL, name
        # sum of dim^2 / type_dim over all irreps is the order of the group
        assert sum(psi.dim**2 // psi.type_dim for psi in group.irreps()) == group.order


def test_samples_are_group_elements_and_closed(group):
    g = draws(group, 32, 2)
    assert g.dtype == torch.float64 and g.shape == (32, group.d, group.d)
    assert bool(group.contains(g).all())
    assert bool(group.contains(g @ draws(group, 32, 3)).all())
    if group.has_reflections:
        assert bool((torch.linalg.det(g) < 0).any())
        assert bool(group.contains(group.reflection()).all())
    else:
        assert bool((torch.linalg.det(g) > 0).all())


def test_finite_groups_have_their_order():
    for name, order in [("C1", 1), ("C7", 7), ("D5", 10), ("O", 24), ("Oh", 48), ("Ci", 2), ("Cs", 2),
                        ("D4@R3", 8)]:
        group = group_from_name(name)
        g = group.elements()
        assert g.shape[0] == order == group.order
        distinct = torch.unique(g.round(decimals=8).flatten(1), dim=0)
        assert distinct.shape[0] == order


def test_membership_rejects_outsiders():
    rot = SO3().sample(4, generator=torch.Generator().manual_seed(0))
    assert not bool(group_from_name("O").contains(rot).any())
    assert not bool(SO3().contains(-rot).any())
    assert not bool(Cyclic(4).contains(Cyclic(6).elements()[1:2]).any())
    assert bool(Cyclic(4).contains(Cyclic(8).elements()[::2]).all())
    assert not bool(group_from_name("SO(2)@R3").contains(rot).any())


def test_standard_rep_is_the_defining_action(group):
    g = draws(group, 8, 4)
    assert (group.standard_rep.matrices(g) - g).abs().max() < TOL
    assert group.standard_rep.dim == group.d


def test_unknown_group_and_bad_elements_are_reported():
    with pytest.raises(ValueError, match="unknown group 'SU\\(2\\)'.*valid names"):
        group_from_name("SU(2)")
    with pytest.raises(ValueError, match=r"elements must have shape \[B, 3, 3\]"):
        SO3().irrep(1).matrices(torch.eye(2, dtype=torch.float64)[None])
    with pytest.raises(ValueError, match="has no irrep"):
        Cyclic(4).irrep(3)
    with pytest.raises(ValueError, match="max_frequency is required"):
        SO3().irreps()


def test_groups_pickle_by_name(group):
    import pickle

    again = pickle.loads(pickle.dumps(group))
    # groups compare by name, so == alone would pass for any group of that name: compare what they do
    assert again == group and type(again) is type(group)
    assert (again.d, again.order, again.has_reflections) == (group.d, group.order, group.has_reflections)
    g = draws(group, 6, 5)
    assert bool(again.contains(g).all())
    for mine, theirs in zip(irreps_of(group, 2), irreps_of(again, 2), strict=True):
        assert mine == theirs and torch.equal(mine.matrices(g), theirs.matrices(g))


def test_each_group_class_answers_for_its_own_names(group):
    # the name round-trips, and the restored group acts the same (not only the same name)
    again = group_from_name(group.name.lower())
    assert type(again) is type(group) and again.name == group.name
    g = group.generators()
    assert torch.equal(again.standard_rep.matrices(g), group.standard_rep.matrices(g))
    others = [cls for cls in (Cyclic(3), SO3(), group_from_name("O(3)")) if type(cls) is not type(group)]
    assert all(type(other).from_name(group.name) is None for other in others)
