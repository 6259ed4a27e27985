"""Fixtures shared by the layer tests."""
import pytest

from topoequi.symmetry import Rep, group_from_name

LAYER_GROUPS = ["SO(2)", "O(2)", "C5", "D4", "SO(3)", "O(3)", "SO(2)@R3", "O", "Ci"]


def _reps_for(group, m_in=2, m_out=3) -> tuple[Rep, Rep]:
    irreps = group.irreps(None if group.is_finite else 2)[:4]
    rep_in = Rep(group, [(p, m_in) for p in irreps]) + group.standard_rep
    rep_out = group.standard_rep + Rep(group, [(p, m_out) for p in irreps])
    return rep_in, rep_out


@pytest.fixture
def reps_for():
    """``reps_for(group, m_in=2, m_out=3)``: an input and an output representation of ``group`` mixing its
    first irreps with its standard representation (in a change of basis where the group has one)."""
    return _reps_for


@pytest.fixture(params=LAYER_GROUPS)
def layer_group(request):
    """Groups of every kind a layer is tested on: planar and spatial, finite and continuous."""
    return group_from_name(request.param)
