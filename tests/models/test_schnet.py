"""SchNet on topoequi's radius graph: PyG's values with exact neighbours, invariance, a foreign graph refused."""
import pytest
import torch
from torch_geometric.nn.models import SchNet as PyGSchNet

from topoequi.models import SchNet


def test_schnet_matches_pyg_with_exact_neighbours(random_molecules, rotation):
    z, pos, batch = random_molecules()

    def all_pairs_within(pos, batch, cutoff=3.0):
        dist = torch.cdist(pos, pos)
        mask = (dist < cutoff) & (batch[:, None] == batch[None, :])
        mask.fill_diagonal_(False)
        edge_index = mask.nonzero().t().flip(0)
        return edge_index, dist[edge_index[0], edge_index[1]]

    torch.manual_seed(0)
    ours = SchNet(hidden_channels=16, num_filters=16, num_interactions=2, num_gaussians=10,
                  cutoff=3.0).double()
    reference = PyGSchNet(hidden_channels=16, num_filters=16, num_interactions=2,
                          num_gaussians=10, cutoff=3.0, interaction_graph=all_pairs_within).double()
    reference.load_state_dict(ours.state_dict())
    out = ours(z, pos, batch)
    assert (out - reference(z, pos, batch)).abs().max() < 1e-12
    moved = pos @ rotation(2).T + 3.0
    assert (ours(z, moved, batch) - out).abs().max() < 1e-10
    with pytest.raises(TypeError, match="SchNet: the interaction graph is topoequi's"):
        SchNet(interaction_graph=all_pairs_within)
