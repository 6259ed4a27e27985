"""Cubical persistence of images: values against gudhi, an exact ring, finite differences."""
import gudhi
import numpy as np
import torch

from topoequi.topology import cubical_diagram


def test_cubical_matches_gudhi_exact_ring_and_gradcheck(finite_intervals, sorted_points):
    images = torch.rand(2, 7, 6, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    d = cubical_diagram(images)
    for g in range(2):
        cc = gudhi.CubicalComplex(top_dimensional_cells=images[g].numpy())
        cc.compute_persistence()
        for k in (0, 1):
            np.testing.assert_array_equal(sorted_points(d.graph(g).points[k]), finite_intervals(cc, k))
    ring = torch.zeros(5, 5, dtype=torch.float64)
    ring[1:4, 1:4] = -1.0
    ring[2, 2] = -0.25                                                 # ink ring (-1) around a paler hole
    d = cubical_diagram(ring)
    assert d.points[1].tolist() == [[-1.0, -0.25]] and d.essential[0].tolist() == [-1.0]
    images.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda im: torch.cat([p.reshape(-1) for p in cubical_diagram(im).points]),
                                    (images,), eps=1e-6, atol=1e-6)
