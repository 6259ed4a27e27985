"""equivariance_degree: per-layer likelihood, KL and measured equivariance errors; the PNG plot."""
import math

import pytest
import torch

from topoequi.nn import GroupLikelihood, ImplicitSteerableConv, SteerableConv
from topoequi.nn.equivariance_degree import equivariance_degree
from topoequi.symmetry import O2, Cyclic, Dihedral
from topoequi.testing import plot_equivariance_degree


def test_report_and_plot(tmp_path):
    group = Dihedral(4)
    uniform, on_c4 = GroupLikelihood(group), GroupLikelihood(group).concentrate_on(Cyclic(4), sharpness=40.0)
    net = torch.nn.Sequential(SteerableConv(group.regular_rep(), group.regular_rep(), likelihood=uniform),
                              ImplicitSteerableConv(group.regular_rep(), group.regular_rep(), likelihood=on_c4),
                              SteerableConv(group.regular_rep(), group.regular_rep()))  # not relaxed: not reported
    report = equivariance_degree(net, subgroup=Cyclic(4))
    assert [e["name"] for e in report] == ["0", "1"]
    first, second = report
    assert first["kl_uniform"] == pytest.approx(0.0, abs=1e-6) and first["subgroup_mass"] == pytest.approx(0.5)
    assert first["errors"].shape == (8,) and float(first["errors"].max()) < 1e-9
    assert second["kl_uniform"] == pytest.approx(math.log(2), abs=1e-5)
    assert second["subgroup_mass"] == pytest.approx(1.0, abs=1e-6)
    mirrors = torch.linalg.det(second["elements"]) < 0
    assert float(second["errors"][~mirrors].max()) < 1e-6  # float32 coefficients: mass off C4 ~ e^-40
    assert float(second["errors"][mirrors].min()) > 1e-2
    assert torch.allclose(second["density"][~mirrors.to(second["density"].device)],
                          torch.full((4,), 2.0, dtype=torch.float64), atol=1e-6)
    path = tmp_path / "lambda.png"
    plot_equivariance_degree(report, path, title="test")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000


def test_continuous_group_and_bad_input():
    group = O2()
    conv = SteerableConv(group.regular_rep(1), group.regular_rep(1),
                         likelihood=GroupLikelihood(group, max_frequency=4).concentrate_on(Dihedral(4), 40.0))
    (entry,) = equivariance_degree(conv, subgroup=Dihedral(4))
    assert entry["elements"].shape == (32, 2, 2) and entry["subgroup_mass"] == pytest.approx(1.0, abs=1e-6)
    in_d4 = Dihedral(4).contains(entry["elements"])
    assert float(entry["errors"][in_d4].max()) < 1e-6 and float(entry["errors"][~in_d4].min()) > 1e-3
    with pytest.raises(ValueError, match="no steerable convolution with a likelihood"):
        equivariance_degree(SteerableConv(group.regular_rep(1), group.regular_rep(1)))
    with pytest.raises(ValueError, match="O\\(2\\) \\(layer SteerableConv\\) has no subgroup O"):
        from topoequi.symmetry import Octahedral

        equivariance_degree(conv, subgroup=Octahedral())
