"""Layers and models on every available device (the CPU always, a GPU where there is one): forward and
backward, and equivariance on the device in float64."""
import pytest
import torch
from torch_geometric.data import Batch

from topoequi.graph import radius_graph
from topoequi.nn import ImplicitSteerableConv, SteerableConv
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant

REP = Rep("4x0e+2x1o")


@pytest.mark.parametrize("conv_class", [ImplicitSteerableConv, SteerableConv])
def test_steerable_convs_on_the_device(device, conv_class):
    gen = torch.Generator().manual_seed(0)
    pos = (torch.randn(24, 3, generator=gen) * 1.5).to(device)
    x = torch.randn(24, REP.dim, generator=gen).to(device)
    edge_index = radius_graph(pos, r=2.5)
    torch.manual_seed(0)
    conv = conv_class(REP, REP, cutoff=2.5).to(device)
    out = conv(x, pos, edge_index)
    out.square().sum().backward()
    assert out.device.type == device.type and out.abs().max() > 1e-3
    grads = [p.grad for p in conv.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    errors = assert_equivariant(conv, [x, pos, edge_index], [REP, "pos", None], REP)
    assert errors[0] < 1e-9


def test_qm9_model_is_invariant_on_the_device(device):
    from topoequi.datasets import QM9
    from topoequi.train.qm9 import build_model

    dataset = QM9(source="sample", progress=False)
    molecules = Batch.from_data_list([dataset[i] for i in (100, 101, 2000)]).to(device)
    torch.manual_seed(0)
    model = build_model("implicit", {"num_layers": 2}, None).to(device).double().eval()

    def predict(pos):
        batch = molecules.clone()
        batch.pos = pos
        return model(batch)[:, None]

    o3 = group_from_name("O(3)")
    errors = assert_equivariant(predict, [molecules.pos.double()], ["pos"], o3.trivial_rep(1))
    assert errors[0] < 1e-9 and predict(molecules.pos.double()).std() > 1e-4
