"""PersistenceDiagrams transform and the per-graph collate."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from topoequi.topology import clique_diagram, cubical_diagram, rips_diagram
from topoequi.transforms import PersistenceDiagrams, collate_diagrams, diagrams_from_batch


def clouds():
    gen = torch.Generator().manual_seed(0)
    return [Data(pos=torch.randn(n, 2, generator=gen, dtype=torch.float64)) for n in (12, 7, 9)]


def test_rips_transform_collate_and_read_back():
    transform = PersistenceDiagrams("rips", max_dim=1)
    data = [transform(d) for d in clouds()]
    batch = collate_diagrams(data)
    diagram = diagrams_from_batch(batch)
    assert diagram.num_graphs == 3
    for g, d in enumerate(clouds()):
        ref = rips_diagram(d.pos, max_dim=1)
        for k in (0, 1):
            assert torch.equal(diagram.graph(g).points[k], ref.points[k])
            assert torch.equal(diagram.graph(g).essential[k], ref.essential[k])
    # PyG's own loader (no follow_batch): the slices give the same per-graph split
    plain = next(iter(DataLoader(data, batch_size=3)))
    again = diagrams_from_batch(plain)
    for k in (0, 1):
        assert torch.equal(again.batch[k], diagram.batch[k]) and torch.equal(again.points[k], diagram.points[k])


def test_graph_and_image_filtrations():
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    data = Data(edge_index=edge_index, x=torch.tensor([[0.0], [3.0], [1.0], [2.0]]), num_nodes=4,
                edge_weight=torch.tensor([0.1, 0.4, 0.2, 0.3]))
    out = PersistenceDiagrams("lower_star")(data.clone())
    ref = clique_diagram(edge_index, 4, node_values=data.x.view(-1))
    assert torch.equal(out.diagram_0, ref.points[0]) and out.essential_1.tolist() == [3.0]
    out = PersistenceDiagrams("edge")(data.clone())
    assert out.essential_1.tolist() == [pytest.approx(0.4)]
    image = torch.rand(6, 6, generator=torch.Generator().manual_seed(1))
    out = PersistenceDiagrams("cubical", key="img")(Data(img=image))
    assert torch.equal(out.diagram_1, cubical_diagram(image).points[1])


def test_errors_and_repr():
    with pytest.raises(ValueError, match="PersistenceDiagrams: filtration must be one of"):
        PersistenceDiagrams("alpha")
    with pytest.raises(ValueError, match="data has no attribute 'pos'"):
        PersistenceDiagrams("rips")(Data(x=torch.zeros(3, 1)))
    with pytest.raises(ValueError, match="batch has no 'diagram_1'"):
        diagrams_from_batch(collate_diagrams([PersistenceDiagrams("rips", max_dim=0)(clouds()[0])], max_dim=0))
    assert repr(PersistenceDiagrams("rips")) == \
        "PersistenceDiagrams(filtration='rips', max_dim=1, key='pos', max_edge_length=inf)"
