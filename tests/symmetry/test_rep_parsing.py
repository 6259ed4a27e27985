"""The string form of representations: labels per group, parsing and printing the same way."""
import pytest
import torch

from topoequi.symmetry import MulIrrep, Rep, group_from_name

LABELS = {  # the irreps of each group up to frequency 2 (all of them when finite), in order
    "SO(2)": "0 1 2", "O(2)": "0e 0o 1 2", "C5": "0 1 2", "C4": "0 1 2", "D4": "0e 0o 1 2e 2o",
    "D3": "0e 0o 1", "SO(3)": "0 1 2", "O(3)": "0e 0o 1e 1o 2e 2o", "SO(2)@R3": "0 1 2",
    "O": "A1 T1 E T2 A2", "Oh": "A1e A1o T1e T1o Ee Eo T2e T2o A2e A2o", "Ci": "0e 0o", "Cs": "0e 0o",
}


@pytest.mark.parametrize("name, labels", LABELS.items())
def test_labels_are_readable(name, labels):
    group = group_from_name(name)
    irreps = group.irreps(None if group.is_finite else 2)
    assert " ".join(psi.label for psi in irreps) == labels
    assert [group.parse_irrep(label) for label in labels.split()] == irreps


def test_string_round_trip(group):
    # every group: print, parse, and get the same representation (multiplicities > 1 too)
    reg = group.regular_rep(None if group.is_finite else 3)
    rep = reg * 2 + group.trivial_rep(3)
    text = str(rep)
    assert Rep(group, text) == rep == group.rep(text) == Rep.from_string(text, group.name)
    assert str(Rep(group, text)) == text and "[" not in text
    assert rep.dim == 2 * reg.dim + 3


def test_o3_strings_read_as_e3nn():
    o3 = pytest.importorskip("e3nn.o3")
    rep = Rep("16x0e + 8x1o+2x2e")  # the group defaults to O(3); spaces are ignored
    assert str(rep) == "16x0e+8x1o+2x2e" == str(o3.Irreps("16x0e+8x1o+2x2e"))
    assert rep == Rep.from_e3nn(o3.Irreps("16x0e+8x1o+2x2e"))
    g = rep.group.sample(3, generator=torch.Generator().manual_seed(0))
    d = o3.Irreps(str(rep)).D_from_matrix(g)
    assert (rep.matrices(g) - d).abs().max() < 1e-5  # e3nn's matrices (e3nn passes through Euler angles)
    assert str(Rep.from_e3nn("2x1o+1x2e", "SO(3)")) == "2x1+1x2"


def test_entries_without_multiplicity_and_the_zero_representation():
    d4 = group_from_name("D4")
    assert Rep(d4, "0e+1+1") == Rep(d4, [(1, "0e"), (1, "1"), (1, "1")]) == Rep(d4, "1x0e+1x1+1x1")
    assert Rep(d4, "").dim == 0 and str(Rep(d4, "")) == ""
    assert str(Rep(d4, "0x1+2x2o")) == "2x2o"  # zero multiplicities are dropped


@pytest.mark.parametrize("name, text, missing, valid", [
    ("SO(3)", "8x1o", "'1o'", "0, 1, 2, ..."),          # an O(3) label in SO(3): groups do not mix
    ("O(3)", "16x0e+8x1", "'1'", "0e, 0o, 1e, 1o, 2e, 2o, ..."),
    ("D4", "2x0e+1x3", "'3'", "0e, 0o, 1, 2e, 2o"),
    ("O", "1xT3", "'T3'", "A1, T1, E, T2, A2"),
    ("SO(2)", "2x0++1x1", "''", "0, 1, 2, ..."),
    ("C4", "2xx1", "'x1'", "0, 1, 2"),
])
def test_unknown_labels_list_the_valid_ones(name, text, missing, valid):
    with pytest.raises(ValueError) as err:
        Rep(name, text)
    message = str(err.value)
    assert f"as a representation of {name}" in message and f"no irrep {missing}" in message
    assert f"its irreps are {valid}" in message and "\n" not in message


def test_entries_in_any_spelling():
    o2 = group_from_name("O(2)")
    psi = o2.irrep(1, 2)
    same = [Rep(o2, [(3, psi)]), Rep(o2, [(psi, 3)]), Rep(o2, [(3, "2")]), Rep(o2, [(3, (1, 2))]),
            Rep.from_irreps(o2, [(3, (1, 2))]), Rep(o2, "3x2"), Rep(o2, [psi] * 3).simplify()]
    assert all(r == same[0] for r in same[1:]) and same[0].dim == 6
    assert Rep(o2, [(1, 2)]) == Rep(o2, "1x2")  # a tuple of ints alone is an id
    assert list(Rep(o2, "2x0o+1x1")) == [MulIrrep(2, o2.irrep(1, 0)), MulIrrep(1, o2.irrep(1, 1))]
    with pytest.raises(ValueError, match="multiplicity of 2 must be a non-negative int, got -1"):
        Rep(o2, [(psi, -1)])
    with pytest.raises(ValueError, match="O\\(2\\)\\[0e\\] is not an irrep of SO\\(2\\)"):
        Rep("SO(2)", [o2.trivial_irrep])
