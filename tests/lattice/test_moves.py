"""Unimodular column moves on Gram matrices: the length order, projections, Gauss and Babai proposals,
the per-column choice that never lengthens a vector."""
import numpy as np
import pytest
import torch

from topoequi.lattice.moves import (
    babai_move,
    best_gauss_move,
    column_norms_after,
    norm_order_mask,
    pairwise_coefficients,
    projection_coefficients,
    select_columns,
)


def test_projection_coefficients_agree_with_least_squares(random_basis):
    b = random_basis(7, 1)
    gram = b.T @ b
    mask = norm_order_mask(gram)
    p = projection_coefficients(gram, mask)
    for j in range(7):
        s = torch.nonzero(mask[:, j]).flatten()
        if len(s):
            x = torch.linalg.lstsq(b[:, s], b[:, j]).solution
            np.testing.assert_allclose(p[s, j], x, rtol=1e-9, atol=1e-9)


def test_norm_order_breaks_ties_by_index():
    gram = torch.diag(torch.tensor([4.0, 1.0, 4.0, 9.0], dtype=torch.float64))
    mask = norm_order_mask(gram)
    # order: b1 (1), b0 (4), b2 (4, tie: larger index later), b3 (9)
    assert mask.tolist() == [[False, False, True, True], [True, False, True, True],
                             [False, False, False, True], [False, False, False, False]]


def test_gauss_and_babai_moves_on_a_known_basis():
    b = torch.tensor([[1.0, 3.2], [0.0, 1.0]], dtype=torch.float64)      # b0 = (1, 0), b1 = (3.2, 1)
    gram = b.T @ b
    mask = norm_order_mask(gram)
    assert torch.allclose(pairwise_coefficients(gram)[0, 1], torch.tensor(3.2, dtype=torch.float64))
    gauss = best_gauss_move(gram, mask)
    assert gauss.tolist() == [[0.0, -3.0], [0.0, 0.0]]                   # b1 - 3 b0 = (0.2, 1)
    assert babai_move(gram, mask).tolist() == [[-0.0, -3.0], [-0.0, -0.0]]
    assert column_norms_after(gram, gauss).tolist() == pytest.approx([1.0, 0.04 + 1.0])
    chosen = select_columns(gram, [torch.zeros_like(gram), gauss])
    assert torch.equal(chosen, gauss)


def test_selected_moves_are_unimodular_and_never_lengthen(random_basis):
    for seed in range(3):
        b = random_basis(6, seed)
        gram = b.T @ b
        mask = norm_order_mask(gram)
        moves = select_columns(gram, [best_gauss_move(gram, mask), babai_move(gram, mask)])
        t = moves + torch.eye(6, dtype=torch.float64)
        assert torch.equal(t, t.round()) and round(torch.linalg.det(t).item()) in (-1, 1)
        assert abs(abs(torch.linalg.det(t).item()) - 1) < 1e-9
        before, after = gram.diagonal(), column_norms_after(gram, moves)
        assert (after <= before * (1 + 1e-12)).all() and (after < before * (1 - 1e-6)).any()
        assert torch.allclose(after, ((b @ t) ** 2).sum(0))
