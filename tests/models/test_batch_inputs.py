"""BatchInputs: a tensor-signature model called on the attributes of a PyG batch."""
import torch
from torch_geometric.data import Batch, Data

from topoequi.models.batch_inputs import BatchInputs


class Pooled(torch.nn.Module):
    """Sum of ``x * scale`` per graph, plus the number of edges: uses every input."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(2.0))

    def forward(self, x, edge_index, batch):
        out = torch.zeros(int(batch.max()) + 1, 1).index_add_(0, batch, x * self.scale)
        return out + edge_index.size(1)


def test_keys_are_passed_in_order_and_flatten():
    graphs = [Data(x=torch.tensor([[1.0], [2.0]]), edge_index=torch.tensor([[0], [1]])),
              Data(x=torch.tensor([[5.0]]), edge_index=torch.zeros(2, 0, dtype=torch.long))]
    batch = Batch.from_data_list(graphs)
    wrapped = BatchInputs(Pooled(), ["x", "edge_index", "batch"])
    assert wrapped(batch).tolist() == [[7.0], [11.0]]                 # 2 * (1 + 2) + 1 edge, 2 * 5 + 1 edge
    flat = BatchInputs(Pooled(), ("x", "edge_index", "batch"), flatten=True)
    assert flat(batch).tolist() == [7.0, 11.0]
    assert [n for n, _ in flat.named_parameters()] == ["model.scale"]
    assert repr(flat) == "BatchInputs(Pooled(), keys=('x', 'edge_index', 'batch'), flatten=True)"
