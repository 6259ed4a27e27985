"""Harmonics of directions: equivariance for planar and spatial groups, the zero vector, exact planar values,
radial products and the orthonormal ring bases."""
import math

import pytest
import torch

from topoequi.symmetry import group_from_name
from topoequi.symmetry.harmonics import harmonics, harmonics_rep, radial_harmonics, ring_harmonics


@pytest.mark.parametrize("name", ["SO(2)", "O(2)", "D4", "C3", "SO(3)", "O(3)", "O", "C4@R3", "SO(2)@R3"])
def test_harmonics_are_equivariant(name):
    group = group_from_name(name)
    rep = harmonics_rep(group, 3)
    v = torch.randn(10, group.d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    g = group.sample(10, generator=torch.Generator().manual_seed(1))
    y = harmonics(v, group, 3)
    assert y.shape == (10, rep.dim)
    rotated = harmonics(torch.einsum("bij,bj->bi", g, v), group, 3)
    assert (rotated - torch.einsum("bij,bj->bi", rep.matrices(g), y)).abs().max() < 1e-10
    assert (harmonics(3.5 * v, group, 3) - y).abs().max() < 1e-12            # directions only


def test_planar_values_and_the_zero_vector():
    group = group_from_name("SO(2)")
    v = torch.tensor([[0.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    y = harmonics(v, group, 2)
    r2 = math.sqrt(2)
    assert y[0].tolist() == pytest.approx([1.0, 0.0, r2, -r2, 0.0], abs=1e-15)   # phi = pi / 2
    assert y[1].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]                           # only the invariant survives
    y3 = harmonics(torch.zeros(1, 3, dtype=torch.float64), group_from_name("O(3)"), 2)
    assert y3[0, 0].item() == 1.0 and y3[0, 1:].abs().max() == 0
    with pytest.raises(ValueError, match="harmonics: vectors must have last dimension 3"):
        harmonics(torch.zeros(2, 2), group_from_name("SO(3)"), 1)


def test_radial_harmonics_multiply_every_copy():
    group = group_from_name("SO(3)")
    rep = harmonics_rep(group, 1)                                     # 1x0e + 1x1o of O(3) restricted: dim 4
    y = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    radial = torch.tensor([[10.0, 100.0]])
    out = radial_harmonics(radial, y, rep)
    assert out.tolist() == [[10.0, 100.0, 20.0, 30.0, 40.0, 200.0, 300.0, 400.0]]
    per_copy = radial_harmonics(torch.tensor([[[1.0, 2.0], [3.0, 4.0]]]), y, rep)   # one radial set per copy
    assert per_copy.tolist() == [[1.0, 3.0, 4.0, 6.0, 8.0, 8.0, 12.0, 16.0]]


def test_ring_harmonics_give_orthonormal_copies_of_each_irrep():
    group = group_from_name("D4")
    pts = torch.cartesian_prod(*[torch.linspace(-2, 2, 5, dtype=torch.float64)] * 2)
    feats, rep = ring_harmonics(pts, group, radii=[1.0, 2.0], width=0.6, max_frequencies=[2, 3])
    assert feats.shape == (25, rep.dim)
    for psi, start, m in rep.entries():
        block = feats[:, start:start + m * psi.dim].unflatten(1, (m, psi.dim))
        gram = torch.einsum("pad,pbd->ab", block, block)
        assert (gram - torch.eye(m, dtype=torch.float64)).abs().max() < 1e-12, psi
    # the grid is D4-symmetric, so the sampled basis transforms as rep under the point permutations
    g = group.elements()
    perm = [torch.cdist(pts @ gi.T, pts).argmin(1) for gi in g]
    for gi, p in zip(g, perm):
        assert (feats[p] - feats @ rep.matrices(gi[None])[0].T).abs().max() < 1e-10
