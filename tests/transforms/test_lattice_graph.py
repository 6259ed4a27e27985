import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from topoequi.transforms import LatticeGraph
from topoequi.transforms.lattice_graph import (
    complete_graph_edge_index,
    lattice_graph_features,
)


def test_complete_graph_edge_index_matches_dense_order():
    ei = complete_graph_edge_index(2, 3)
    assert ei.tolist() == [[0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4]]


def test_features_are_exact_for_a_known_basis():
    # b_0 = (1, 0), b_1 = (1, 2): G = [[1, 1], [1, 5]], det G = 4
    feats = lattice_graph_features(torch.tensor([[[1.0, 1.0], [1.0, 5.0]]], dtype=torch.float64))
    ell = [0.0 - np.log(4) / 4, 0.5 * np.log(5) - np.log(4) / 4]
    np.testing.assert_allclose(feats["x"][0, :, 0], ell, rtol=1e-14)
    np.testing.assert_allclose(feats["x"][0, :, 1], [0.0, 1.0])  # rank by length
    np.testing.assert_allclose(feats["x"][0, :, 2], [0.0, 0.5 * np.log(4 / 5)], atol=1e-15)  # |b_1*|^2 = 4
    assert feats["mask"][0].tolist() == [[False, True], [False, False]]
    np.testing.assert_allclose(feats["projection"][0], [[0.0, 1.0], [0.0, 0.0]], atol=1e-15)
    edge = feats["edge_attr"][0, 0, 1]  # moving b_1 by b_0: mu = 1, gain (2 - 1) / 5
    np.testing.assert_allclose(edge[:4], [1 / np.sqrt(5), 1.0, 1.0, 0.0], rtol=1e-14)
    np.testing.assert_allclose(edge[6], 1 / 5, rtol=1e-14)


@pytest.mark.parametrize("n", [3, 8])
def test_transform_is_invariant_to_isometry_scale_and_equivariant_to_signed_permutations(n, signed_permutation,
                                                                                          random_basis):
    b = random_basis(n, n)
    base = LatticeGraph(torch.float64)(Data(basis=b))
    assert base.x.shape == (n, 3) and base.edge_attr.shape == (n * (n - 1), 9)
    q = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64))[0]
    for moved in (q @ b, 7.3 * b, -b):
        out = LatticeGraph(torch.float64)(Data(basis=moved))
        err = max((out.x - base.x).abs().max().item(), (out.edge_attr - base.edge_attr).abs().max().item())
        assert err < 1e-9, err
    dense = torch.zeros(n, n, 9, dtype=torch.float64)
    dense[~torch.eye(n, dtype=torch.bool)] = base.edge_attr
    for seed in range(3):
        m, perm, _ = signed_permutation(n, seed)
        out = LatticeGraph(torch.float64)(Data(basis=b @ m))
        moved = torch.zeros_like(dense)
        moved[~torch.eye(n, dtype=torch.bool)] = out.edge_attr
        assert (out.x - base.x[perm]).abs().max() < 1e-9
        assert (moved - dense[perm][:, perm]).abs().max() < 1e-9


def test_batches_stack_gram_matrices(random_basis):
    t = LatticeGraph()
    batch = Batch.from_data_list([t(Data(basis=random_basis(4, s))) for s in range(3)])
    assert batch.gram.shape == (3, 4, 4) and batch.edge_index.shape == (2, 36)
    assert batch.x.dtype == torch.float32


@pytest.mark.parametrize("basis, match", [
    (torch.ones(2, 3), "shape"),
    (torch.tensor([[1.0, 2.0], [2.0, 4.0]]), "singular"),
    (torch.tensor([[1.0, 1.0], [1.0, 1.0 + 1e-14]], dtype=torch.float64), "nearly singular"),
    (torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), "non-finite"),
])
def test_bad_input(basis, match):
    with pytest.raises(ValueError, match=match):
        LatticeGraph()(Data(basis=basis))
    with pytest.raises(TypeError, match="data.basis"):
        LatticeGraph()(Data(x=torch.ones(2, 2)))
