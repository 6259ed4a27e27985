import pytest

from topoequi.symmetry import group_from_name

ALL_GROUPS = ["SO(2)", "O(2)", "C1", "C2", "C5", "C8", "D1", "D2", "D3", "D6", "SO(3)", "O(3)",
              "SO(2)@R3", "O(2)@R3", "C4@R3", "D3@R3", "O", "Oh", "Ci", "Cs", "C6@R3+mirror"]


@pytest.fixture(params=ALL_GROUPS)
def group(request):
    """Every kind of group of the symmetry core, finite and continuous, planar and spatial."""
    return group_from_name(request.param)
