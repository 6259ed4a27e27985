"""Batches padded to a fixed budget train exactly the steps of the unpadded ones (float64, to 1e-12)."""
import copy

import pytest
import torch
from torch_geometric.data import Batch

from topoequi.datasets import QM9
from topoequi.loader.static_shapes import ShapeBudget, choose_budget
from topoequi.models.steerable_molecule_net import build_steerable_molecule_net
from topoequi.train import qm9
from topoequi.train.static_step import (
    check_static_model,
    masked_batch_norm,
    molecule_sizes,
    pad_molecules,
    padded_forward,
    padded_loss,
)


@pytest.fixture(scope="module")
def sample():
    return QM9(source="sample", subset=60, progress=False)


def step(model, forward):
    """Loss, outputs, gradients and batch-norm running estimates after one backward pass."""
    loss, out = forward(model)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    buffers = {n: b.clone() for n, b in model.named_buffers() if n.startswith("norms")}
    return loss.detach(), out.detach(), grads, buffers


@pytest.mark.parametrize("kernel, extra", [("implicit", {"node_attributes": True}), ("steerable", {}),
                                           ("implicit", {"readout": "mean"})])
def test_padded_step_equals_the_unpadded_one(sample, small_hparams, homo_stats, kernel, extra):
    torch.manual_seed(0)
    model = build_steerable_molecule_net(kernel, {**small_hparams, **extra}).double().train()
    twin = copy.deepcopy(model)
    batch = Batch.from_data_list([sample[i] for i in (3, 17, 4, 40, 22)])
    batch.pos = batch.pos.double()
    loss_fn, _ = qm9.objectives(homo_stats)
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


def test_budget_covers_batches_of_the_data(sample, small_hparams):
    atoms, edges = molecule_sizes(sample, cutoff=5.0, max_num_neighbors=32, sample=None)
    assert atoms.sum() == sum(sample[i].num_nodes for i in range(len(sample))) and len(edges) == 60
    budget = choose_budget(atoms, edges, batch_size=8, max_degree=32)
    assert budget.graphs == 8 and budget.atoms > 8 * float(atoms.double().mean())
    assert budget.edges > 8 * float(edges.double().mean())
    model = build_steerable_molecule_net("implicit", small_hparams)
    fitted = 0
    for start in range(0, 56, 8):
        batch = Batch.from_data_list([sample[i] for i in range(start, start + 8)])
        fitted += pad_molecules(model, batch, budget) is not None
    assert fitted == 7


def test_masked_batch_norm_is_batch_norm_of_the_real_atoms():
    from topoequi.nn import EquivariantBatchNorm
    from topoequi.symmetry import Rep

    torch.manual_seed(0)
    norm = EquivariantBatchNorm(Rep("3x0e+2x1o"), momentum=0.3).double()
    with torch.no_grad():
        norm.scalar_weight.copy_(torch.tensor([0.5, 1.0, 2.0]))
        norm.scalar_bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
        norm.vector_weight.copy_(torch.tensor([1.5, 0.7]))
    twin = copy.deepcopy(norm)
    real = torch.randn(6, 9, dtype=torch.float64) * 3 + 1
    x = torch.cat([real, torch.full((4, 9), 1e3, dtype=torch.float64)])  # padding rows far off
    mask = torch.cat([torch.ones(6), torch.zeros(4)]).double()
    out = masked_batch_norm(norm, x, mask, torch.tensor([6.0], dtype=torch.float64))
    assert torch.allclose(out[:6], twin(real), rtol=0, atol=1e-12)
    for name, value in twin.named_buffers():
        assert torch.allclose(dict(norm.named_buffers())[name], value, rtol=0, atol=1e-12), name
    assert abs(out[:6, 0].mean().item() - norm.scalar_bias[0].item()) < 1e-12  # the mean of a normalised scalar
    norm.eval()
    assert torch.equal(masked_batch_norm(norm, x, mask, torch.tensor([6.0])), norm(x))  # running estimates


def test_padded_loss_averages_over_the_real_graphs_and_other_models_are_refused():
    from types import SimpleNamespace

    padded = SimpleNamespace(graph_mask=torch.tensor([1.0, 1.0, 0.0]), real_graphs=torch.tensor([2.0]))
    mean, total = padded_loss(lambda out, p: out ** 2, torch.tensor([1.0, 2.0, 30.0]), padded)
    assert (float(mean), float(total)) == (2.5, 5.0)
    with pytest.raises(TypeError, match="runs a SteerableMoleculeNet .* got Linear"):
        check_static_model(torch.nn.Linear(2, 2))
    check_static_model(build_steerable_molecule_net("implicit", {"hidden_irreps": "4x0e+2x1o", "num_layers": 1}))
