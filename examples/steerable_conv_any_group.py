"""An implicit steerable convolution for a group with no tailored kernel basis, checked in float64.

    python examples/steerable_conv_any_group.py
"""
import torch

from topoequi.graph import radius_graph
from topoequi.nn import ImplicitSteerableConv
from topoequi.symmetry import group_from_name
from topoequi.testing import assert_equivariant

torch.manual_seed(0)
for name in ["O(3)", "SO(2)@R3", "Cs", "D4"]:  # rotations + reflections, an axis, a mirror, a planar group
    group = group_from_name(name)
    rep = group.trivial_rep(4) + group.standard_rep  # 4 scalars and a vector field
    conv = ImplicitSteerableConv(rep, rep, cutoff=2.0)
    pos = torch.randn(30, group.d)
    x = torch.randn(30, rep.dim)
    edge_index = radius_graph(pos, r=2.0)
    out = conv(x, pos, edge_index)
    error = assert_equivariant(conv, [x, pos, edge_index], [rep, "pos", None], rep)[0]
    print(f"{name:>9}: {edge_index.shape[1]} edges, output {tuple(out.shape)}, "
          f"equivariance error {error:.1e} (float64)")
