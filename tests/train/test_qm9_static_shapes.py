"""Batches padded to a fixed budget train exactly the steps of the unpadded ones (float64, to 1e-12)."""
import copy

import pytest
import torch
from torch_geometric.data import Batch

from topoequi.datasets import QM9
from topoequi.loader.static_shapes import ShapeBudget, choose_budget, pad_batch
from topoequi.models.steerable_molecule_net import build_steerable_molecule_net
from topoequi.train import qm9
from topoequi.train.static_step import molecule_sizes, pad_molecules, padded_forward, padded_loss

SMALL = {"hidden_irreps": "8x0e+4x1o+2x2e", "num_layers": 2, "embedding_dim": 8, "num_radial": 4}


@pytest.fixture(scope="module")
def sample():
    return QM9(source="sample", subset=60, progress=False)


def stats():
    return qm9.TargetStats("homo", 2, -6.5, 0.6, "meV")


def step(model, forward):
    """Loss, outputs, gradients and batch-norm running estimates after one backward pass."""
    loss, out = forward(model)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    buffers = {n: b.clone() for n, b in model.named_buffers() if n.startswith("norms")}
    return loss.detach(), out.detach(), grads, buffers


@pytest.mark.parametrize("kernel, extra", [("implicit", {"node_attributes": True}), ("steerable", {}),
                                           ("implicit", {"readout": "mean"})])
def test_padded_step_equals_the_unpadded_one(sample, kernel, extra):
    torch.manual_seed(0)
    model = build_steerable_molecule_net(kernel, {**SMALL, **extra}).double().train()
    twin = copy.deepcopy(model)
    batch = Batch.from_data_list([sample[i] for i in (3, 17, 4, 40, 22)])
    batch.pos = batch.pos.double()
    loss_fn, _ = qm9.objectives(stats())
    budget = ShapeBudget(graphs=8, atoms=batch.num_nodes + 40, edges=600, max_degree=32)
    padded = pad_molecules(model, batch, budget)
    assert padded is not None and 200 < padded.num_edges < budget.edges - 200  # real edges and much padding
    plain = step(model, lambda m: (loss_fn(out := m(batch), batch).mean(), out))
    padded_run = step(twin, lambda m: (padded_loss(loss_fn, out := padded_forward(m, padded), padded)[0], out))
    assert torch.allclose(plain[0], padded_run[0], rtol=0, atol=1e-12)
    assert torch.allclose(plain[1], padded_run[1][:5], rtol=0, atol=1e-12)
    assert torch.equal(padded_run[1][5:], torch.zeros(3, dtype=torch.float64))  # the empty slots
    assert plain[2].keys() == padded_run[2].keys() and len(plain[2]) > 10
    for name, grad in plain[2].items():
        assert torch.allclose(grad, padded_run[2][name], rtol=0, atol=1e-12), name
    for name, value in plain[3].items():
        assert torch.allclose(value, padded_run[3][name], rtol=0, atol=1e-12), name
    model.eval(), twin.eval()  # evaluation with the running estimates agrees too
    assert torch.allclose(model(batch), padded_forward(twin, padded)[:5], rtol=0, atol=1e-12)


def test_padding_layout_keeps_real_atoms_apart_and_degrees_bounded(sample):
    batch = Batch.from_data_list([sample[i] for i in range(4)])
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


def test_budget_covers_batches_of_the_data(sample):
    atoms, edges = molecule_sizes(sample, cutoff=5.0, max_num_neighbors=32, sample=None)
    assert atoms.sum() == sum(sample[i].num_nodes for i in range(len(sample))) and len(edges) == 60
    budget = choose_budget(atoms, edges, batch_size=8, max_degree=32)
    assert budget.graphs == 8 and budget.atoms > 8 * float(atoms.double().mean())
    assert budget.edges > 8 * float(edges.double().mean())
    model = build_steerable_molecule_net("implicit", SMALL)
    fitted = 0
    for start in range(0, 56, 8):
        batch = Batch.from_data_list([sample[i] for i in range(start, start + 8)])
        fitted += pad_molecules(model, batch, budget) is not None
    assert fitted == 7
    with pytest.raises(ValueError, match="ShapeBudget: edges must be a positive integer"):
        ShapeBudget(4, 10, 0, 32)
    with pytest.raises(ValueError, match="same length"):
        choose_budget(atoms, edges[:5], 8, 32)
