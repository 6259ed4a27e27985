"""Sheaf coboundary and Laplacian: the graph Laplacian for identity maps, L = delta^T delta for random maps,
the diagonal, the normalised form, bad shapes."""
import pytest
import torch

from topoequi.topology import coboundary, laplacian_diagonal, sheaf_laplacian

EDGES = torch.tensor([[0, 1], [1, 2], [0, 2], [2, 3]])


def dense_coboundary(edges, restriction, num_nodes):
    d = restriction.size(-1)
    delta = torch.zeros(len(edges) * d, num_nodes * d, dtype=restriction.dtype)
    for e, (u, v) in enumerate(edges.tolist()):
        delta[e * d:(e + 1) * d, u * d:(u + 1) * d] = -restriction[e, 0]
        delta[e * d:(e + 1) * d, v * d:(v + 1) * d] = restriction[e, 1]
    return delta


def test_identity_maps_give_the_graph_laplacian():
    lap = sheaf_laplacian(EDGES, torch.ones(4, 2, 1, 1, dtype=torch.float64), 5).to_dense()
    expected = torch.tensor([[2, -1, -1, 0, 0], [-1, 2, -1, 0, 0], [-1, -1, 3, -1, 0], [0, 0, -1, 1, 0],
                             [0, 0, 0, 0, 0]], dtype=torch.float64)
    assert torch.equal(lap, expected)


def test_random_maps_laplacian_is_delta_transpose_delta():
    restriction = torch.randn(4, 2, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    delta = dense_coboundary(EDGES, restriction, 5)
    lap = sheaf_laplacian(EDGES, restriction, 5)
    assert (lap.to_dense() - delta.T @ delta).abs().max() < 1e-12
    assert torch.equal(lap.to_dense(), lap.to_dense().T)                       # symmetric bitwise
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert (coboundary(x, EDGES, restriction).reshape(-1) - delta @ x.reshape(-1)).abs().max() < 1e-12
    channels = torch.randn(5, 3, 4, dtype=torch.float64)
    assert torch.allclose(coboundary(channels, EDGES, restriction)[..., 2], coboundary(channels[..., 2], EDGES,
                                                                                       restriction))
    diag = laplacian_diagonal(EDGES, restriction, 5)
    assert diag.shape == (5, 3) and torch.allclose(diag.reshape(-1), (delta.T @ delta).diagonal())
    assert diag[4].abs().max() == 0                                            # an isolated vertex


def test_normalised_laplacian_has_unit_diagonal_where_reached():
    restriction = torch.randn(4, 2, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    norm = sheaf_laplacian(EDGES, restriction, 5, normalized=True).to_dense()
    assert torch.allclose(norm.diagonal()[:8], torch.ones(8, dtype=torch.float64))
    assert norm[8:].abs().max() == 0 and norm[:, 8:].abs().max() == 0
    eigenvalues = torch.linalg.eigvalsh(norm)
    assert eigenvalues.min() > -1e-12                                         # positive semi-definite


def test_bad_shapes_are_rejected():
    restriction = torch.zeros(4, 2, 1, 1)
    with pytest.raises(ValueError, match=r"edges must have shape \[E, 2\], got \[2, 4\]"):
        sheaf_laplacian(EDGES.T, restriction, 5)
    with pytest.raises(ValueError, match=r"restriction must have shape \[E, 2, d, d\] with E = 4"):
        laplacian_diagonal(EDGES, restriction[:3], 5)
    with pytest.raises(ValueError, match=r"edges hold vertex ids outside \[0, 3\)"):
        coboundary(torch.zeros(3, 1), EDGES, restriction)
