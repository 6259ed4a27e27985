"""An implicit steerable convolution for a group with no tailored kernel basis, checked in float64.

    python examples/steerable_conv_any_group.py
"""
import torch

from topoequi.graph import radius_graph
from topoequi.nn import ImplicitSteerableConv
from topoequi.symmetry import Rep
from topoequi.testing import assert_equivariant

torch.manual_seed(0)
FIELDS = {  # 4 scalars and a vector field, in each group's irreps
    "O(3)": "4x0e+1x1o",         # rotations + reflections: the vector is 1o, as in e3nn
    "SO(2)@R3": "4x0+1x0+1x1",   # rotations about z: z is invariant, the xy plane has frequency 1
    "Cs": "4x0e+2x0e+1x0o",      # the mirror z -> -z: x and y are even, z is odd
    "D4": "4x0e+1x1",            # a planar group: the vector of R^2 is its 2-dim irrep
}
for name, fields in FIELDS.items():
    rep = Rep(name, fields)
    conv = ImplicitSteerableConv(rep, rep, cutoff=2.0)
    pos = torch.randn(30, rep.group.d)
    x = rep.randn(30)
    edge_index = radius_graph(pos, r=2.0)
    out = conv(x, pos, edge_index)
    error = assert_equivariant(conv, [x, pos, edge_index])[0]  # representations read from the layer
    print(f"{name:>9} {rep}: {edge_index.shape[1]} edges, output {tuple(out.shape)}, "
          f"equivariance error {error:.1e} (float64)")
