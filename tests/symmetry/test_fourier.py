import pytest
import torch

from topoequi.symmetry import SO3, GroupFourier, Rep, group_from_name, sampling_matrix

TOL = 1e-10


def regular(group, max_frequency=2):
    return group.regular_rep(None if group.is_finite else max_frequency)


def enough_samples(group, rep):
    if group.is_finite:
        return group.grid(group.order)
    n = 3 * rep.dim
    return group.grid(n + n % 2)


def test_regular_rep_dimensions():
    assert group_from_name("SO(2)").regular_rep(3).dim == 7
    assert group_from_name("O(2)").regular_rep(3).dim == 14  # 1 + 1 + 3 * (2 copies of a 2-dim irrep)
    assert SO3().regular_rep(2).dim == 1 + 9 + 25
    assert group_from_name("O(3)").regular_rep(1).dim == 2 * (1 + 9)
    for name in ["C5", "C6", "D4", "O", "Oh", "Cs"]:
        group = group_from_name(name)
        assert group.regular_rep().dim == group.order


def test_round_trip(group):
    rep = regular(group)
    fourier = GroupFourier(rep, enough_samples(group, rep))
    f = torch.randn(4, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert (fourier.forward(fourier.inverse(f)) - f).abs().max() < TOL


def test_regular_action_is_the_left_shift(group):
    # f(h^-1 g) = A(g) rho_reg(h) f: the coefficients transform by the regular representation
    rep = regular(group)
    gen = torch.Generator().manual_seed(1)
    f = torch.randn(rep.dim, dtype=torch.float64, generator=gen)
    h = group.sample(1, generator=gen)
    g = group.sample(10, generator=gen)
    shifted = sampling_matrix(rep, h.transpose(1, 2) @ g) @ f
    assert (sampling_matrix(rep, g) @ (rep.matrices(h)[0] @ f) - shifted).abs().max() < TOL


def test_coefficients_are_orthonormal_for_the_haar_measure():
    for name in ["C7", "D4", "O", "Oh"]:
        group = group_from_name(name)
        a = sampling_matrix(group.regular_rep(), group.elements())
        assert (a.T @ a / group.order - torch.eye(group.order, dtype=torch.float64)).abs().max() < TOL
    so2 = group_from_name("SO(2)")
    a = sampling_matrix(so2.regular_rep(3), so2.grid(16))  # exact quadrature for frequency <= 7
    assert (a.T @ a / 16 - torch.eye(7, dtype=torch.float64)).abs().max() < TOL


def test_too_few_samples_name_the_minimum():
    rep = SO3().regular_rep(2)
    with pytest.raises(ValueError, match="at least 35 are needed"):
        GroupFourier(rep, SO3().grid(20))
    so2 = group_from_name("SO(2)")
    with pytest.raises(ValueError, match="rank-deficient"):
        GroupFourier(so2.regular_rep(2), so2.grid(5)[[0, 0, 1, 1, 2]])


def test_non_regular_rep_is_rejected():
    G = SO3()
    with pytest.raises(ValueError, match="not a band-limited regular representation"):
        sampling_matrix(Rep(G, [G.irrep(1)]), G.grid(10))
    with pytest.raises(ValueError, match="not a band-limited regular"):
        sampling_matrix(G.standard_rep, G.grid(10))
