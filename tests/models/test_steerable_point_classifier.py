import pytest
import torch
from torch_geometric.data import Batch, Data

from topoequi.models.steerable_point_classifier import SteerablePointClassifier, neighbourhoods
from topoequi.symmetry import group_from_name
from topoequi.testing import assert_equivariant, equivariance_error

pytestmark = pytest.mark.usefixtures("one_thread")


def clouds(num=3, points=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return Batch.from_data_list([Data(pos=torch.randn(points, 3, generator=gen)) for _ in range(num)])


def small(group, **kwargs):
    torch.manual_seed(0)
    return SteerablePointClassifier(5, group=group, hidden_irreps="4x0e+2x1o+1x2e", k=6,
                                    ratios=(0.5, 1.0, 0.5), head_channels=8, **kwargs).eval()


def logits_of(model, batch):
    return lambda pos: model(Data(pos=pos, batch=batch.batch))


@pytest.mark.parametrize("group", ["O(3)", "SO(3)", "SO(2)"])
def test_logits_are_invariant_in_float64(group):
    model, batch = small(group), clouds()
    errors = assert_equivariant(logits_of(model.double(), batch), [batch.pos], ["pos"], None, group=model.group,
                                atol=1e-10)
    assert errors[0] < 1e-10  # measured: about 1e-16


def test_only_the_chosen_group_is_a_symmetry():
    batch = clouds()
    so3 = group_from_name("SO(3)")
    # rotations about z leave the SO(2) model unchanged, general rotations do not
    so2 = small("SO(2)").double()
    assert equivariance_error(logits_of(so2, batch), [batch.pos], ["pos"], None, group=so3)[0] > 1e-4
    trivial = small("trivial").double()
    assert equivariance_error(logits_of(trivial, batch), [batch.pos], ["pos"], None, group=so3)[0] > 1e-4


def test_neighbourhoods_exclude_self_and_stay_in_example():
    batch = clouds(2, 20)
    kept, edges = neighbourhoods(batch.pos, batch.batch, 0.25, 4)
    assert kept.numel() == 10
    assert edges.shape == (2, 40)
    assert bool((edges[0] != edges[1]).all())
    assert torch.equal(batch.batch[edges[0]], batch.batch[edges[1]])
    assert set(edges[1].tolist()) == set(kept.tolist())


@pytest.mark.slow
def test_trains_on_a_batch():
    batch = clouds(4, 32)
    batch.y = torch.tensor([0, 1, 2, 3])
    model = small("SO(3)").train()
    model.head[3].p = 0.0
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch), batch.y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]


def test_bad_input():
    model = small("O(3)")
    pos = torch.randn(10, 3)
    pos[3] = pos[7]
    with pytest.raises(ValueError, match="SteerablePointClassifier: 'pos' has duplicate points"):
        model(Data(pos=pos))
    with pytest.raises(ValueError, match="SteerablePointClassifier: 'pos' contains NaN"):
        model(Data(pos=torch.full((4, 3), float("nan"))))
    with pytest.raises(ValueError, match="SteerablePointClassifier: group must be one of"):
        SteerablePointClassifier(5, group="E(3)")
    with pytest.raises(ValueError, match="SteerablePointClassifier: ratios"):
        SteerablePointClassifier(5, ratios=(1.0, 0.5), cutoffs=(1.0,))
    assert repr(model).startswith("SteerablePointClassifier(5, group=O(3), hidden_irreps=4x0e+2x1o+1x2e")
