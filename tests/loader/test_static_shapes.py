"""Molecule batches padded to a fixed budget: the layout (real atoms first, padding edges far apart and within
the degree bound), batches that do not fit, and budgets sized from the data."""
import math

import pytest
import torch
from torch_geometric.data import Batch

from topoequi.loader.static_shapes import ShapeBudget, choose_budget, pad_batch


def test_padding_layout_keeps_real_atoms_apart_and_degrees_bounded(qm9):
    batch = Batch.from_data_list([qm9[i] for i in range(4)])
    n, cutoff = batch.num_nodes, 5.0
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    budget = ShapeBudget(graphs=6, atoms=n + 5, edges=40, max_degree=8)
    padded = pad_batch(batch.z, batch.pos, batch.batch, edge_index, batch.y, 4, budget, spacing=cutoff,
                       edge_attr=torch.ones(3, 2))
    assert padded.z.shape == (n + 5,) and padded.edge_index.shape == (2, 40) and padded.y.shape == (6, 19)
    assert torch.equal(padded.edge_index[:, :3], edge_index) and bool((padded.edge_index[:, 3:] >= n).all())
    src, dst = padded.edge_index[:, 3:]
    assert float((padded.pos[src] - padded.pos[dst]).norm(dim=1).min()) == pytest.approx(3 * cutoff)
    assert int(torch.bincount(padded.edge_index[1]).max()) == 8 == -(-37 // 5)  # ceil(37 / 5) <= max_degree
    assert padded.batch[n:].tolist() == [6] * 5 and padded.node_mask.sum() == n == float(padded.real_atoms)
    assert padded.graph_mask.tolist() == [1, 1, 1, 1, 0, 0] and padded.edge_attr[3:].abs().sum() == 0
    too_many = [ShapeBudget(3, n + 5, 40, 8), ShapeBudget(6, n + 1, 40, 8), ShapeBudget(6, n + 5, 2, 8),
                ShapeBudget(6, n + 5, 60, 8)]  # graphs, atoms, edges, spare edges over 5 x 8
    for small in too_many:
        assert pad_batch(batch.z, batch.pos, batch.batch, edge_index, batch.y, 4, small, spacing=cutoff) is None
    twin = pad_batch(batch.z, batch.pos + 1, batch.batch, edge_index, batch.y, 4, budget, spacing=cutoff,
                     edge_attr=torch.zeros(3, 2))
    padded.copy_(twin)
    assert torch.equal(padded.pos, twin.pos) and padded.edge_attr.abs().sum() == 0


def test_budget_is_the_mean_plus_sigmas_standard_deviations():
    atoms, edges = torch.tensor([10, 20]), torch.tensor([100, 200])  # means 15 and 150, std 5 sqrt 2, 50 sqrt 2
    assert choose_budget(atoms, edges, batch_size=4, max_degree=32, sigmas=0.0) == ShapeBudget(4, 62, 600, 32)
    spare = 2 * 1.0 * 2 * 50 * math.sqrt(2)  # 283 edges of slack on padding atoms: ceil(283 / 32) = 9 of them
    assert math.ceil(spare / 32) == 9
    assert choose_budget(atoms, edges, 4, 32, sigmas=1.0) == ShapeBudget(4, 75 + 9 + 2, 742, 32)


def test_bad_budgets_name_the_field():
    with pytest.raises(ValueError, match="ShapeBudget: edges must be a positive integer"):
        ShapeBudget(4, 10, 0, 32)
    with pytest.raises(ValueError, match="ShapeBudget: graphs must be a positive integer, got True"):
        ShapeBudget(True, 10, 10, 32)
    with pytest.raises(ValueError, match=r"ShapeBudget: atoms must be at least 3 \(two are padding\), got 2"):
        ShapeBudget(1, 2, 10, 32)
    atoms, edges = torch.tensor([3, 5, 9, 4, 6, 7]), torch.tensor([6, 20, 72, 12, 30, 42])
    with pytest.raises(ValueError, match="same length"):
        choose_budget(atoms, edges[:5], 8, 32)
    with pytest.raises(ValueError, match="at least 2"):
        choose_budget(atoms[:1], edges[:1], 8, 32)
    with pytest.raises(ValueError, match="choose_budget: sigmas must be >= 0, got nan"):
        choose_budget(atoms, edges, 8, 32, sigmas=float("nan"))
