import numpy as np
import pytest
import torch

from topoequi.symmetry import (
    SO3,
    Rep,
    from_escnn,
    group_from_name,
    to_e3nn,
    to_escnn,
)
from topoequi.symmetry.convert import escnn_elements

TOL = 1e-10


def test_e3nn_round_trip_and_identical_matrices():
    from e3nn import o3

    O3 = group_from_name("O(3)")
    rep = Rep.from_e3nn("16x0e + 8x1o + 2x2e + 1x1e")
    assert rep.dim == 16 + 24 + 10 + 3
    assert str(to_e3nn(rep)) == "16x0e+8x1o+2x2e+1x1e"
    g = O3.sample(4, generator=torch.Generator().manual_seed(0))
    # e3nn's spherical harmonics transform with our matrices: Y(g x) = D(g) Y(x) (vectors 1o)
    x = torch.randn(10, 3, dtype=torch.float64)
    for l in range(4):
        psi = O3.irrep(l, l % 2)
        lhs = o3.spherical_harmonics(l, x @ g[0].T, normalize=True)
        rhs = o3.spherical_harmonics(l, x, normalize=True) @ psi.matrices(g[:1])[0].T
        assert (lhs - rhs).abs().max() < TOL
    assert to_e3nn(Rep(SO3(), "2x1+1x2")) == o3.Irreps("2x1o+1x2e")
    with pytest.raises(ValueError, match="only SO\\(3\\) and O\\(3\\)"):
        to_e3nn(group_from_name("SO(2)").standard_rep)


@pytest.mark.parametrize("name", ["SO(2)", "O(2)", "C4", "D3", "SO(3)", "O(3)"])
def test_escnn_field_type_has_our_matrices(name):
    group = group_from_name(name)
    rep = group.standard_rep + group.regular_rep(None if group.is_finite else 2)
    field_type = to_escnn(rep)
    assert field_type.size == rep.dim
    g = group.sample(5, generator=torch.Generator().manual_seed(1))
    esc = escnn_elements(group, field_type.gspace, g)
    theirs = torch.tensor(np.stack([field_type.representation(e) for e in esc]), dtype=torch.float64)
    assert (theirs - rep.matrices(g)).abs().max() < TOL
    # the escnn element acts on space exactly as ours
    action = torch.tensor(np.stack([field_type.gspace.basespace_action(e) for e in esc]), dtype=torch.float64)
    assert (action - g).abs().max() < TOL
    back = from_escnn(field_type, group)
    assert (back.matrices(g) - rep.matrices(g)).abs().max() < TOL


def test_escnn_unsupported_group_is_reported():
    with pytest.raises(ValueError, match="escnn conversion supports"):
        to_escnn(Rep(group_from_name("O"), [group_from_name("O").irrep("T1")]))
