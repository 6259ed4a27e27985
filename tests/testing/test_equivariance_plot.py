"""The plot of an equivariance-degree report: element labels, a PNG per report, an empty report refused."""
import pytest
import torch

from topoequi.symmetry import SO3, Dihedral
from topoequi.testing import plot_equivariance_degree
from topoequi.testing.equivariance_plot import _labels


def test_planar_elements_are_labelled_by_angle_and_flip():
    assert _labels(Dihedral(4).elements()) == ["R0", "R90", "R180", "R270", "F0", "F90", "F180", "F270"]
    assert _labels(SO3().sample(3)) == ["0", "1", "2"]


def test_a_report_is_drawn_and_an_empty_one_refused(tmp_path):
    group = Dihedral(2)
    entry = {"name": "conv", "group": "D2", "grid": group.elements(), "density": torch.ones(4, dtype=torch.float64),
             "kl_uniform": 0.0, "subgroup_mass": 0.5, "elements": group.elements(),
             "errors": torch.tensor([0.0, 1e-3, 1e-9, 0.2])}
    path = tmp_path / "degree.png"
    plot_equivariance_degree([entry, dict(entry, name="other")], path, title="two layers")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
    with pytest.raises(ValueError, match="plot_equivariance_degree: the report is empty"):
        plot_equivariance_degree([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
