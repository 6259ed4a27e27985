"""DimeNet++: triplets against brute force, PyG's forward, invariance to isometries and relabelling."""
import pytest
import torch
from torch_geometric.nn.models import dimenet as pyg_dimenet

from topoequi.graph import radius_graph
from topoequi.models import DimeNetPlusPlus, triplets


def brute_force_triplets(edge_index):
    out = []
    for ji, (j, i) in enumerate(edge_index.t().tolist()):
        for kj, (k, j2) in enumerate(edge_index.t().tolist()):
            if j2 == j and k != i:
                out.append((i, j, k, kj, ji))
    return out


def test_triplets_on_complete_graphs():
    for n, expected in ((3, 6), (4, 24), (5, 60)):  # n (n-1) edges, each with n-2 triplets
        edge_index = (~torch.eye(n, dtype=torch.bool)).nonzero().t()
        _, _, idx_i, idx_j, idx_k, _, _ = triplets(edge_index, n)
        assert idx_i.numel() == expected == n * (n - 1) * (n - 2)
        assert bool(((idx_i != idx_j) & (idx_j != idx_k) & (idx_i != idx_k)).all())
    path = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # 0 - 1 - 2
    _, _, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(path, 3)
    assert list(zip(idx_k.tolist(), idx_j.tolist(), idx_i.tolist())) == [(2, 1, 0), (0, 1, 2)]
    assert idx_kj.tolist() == [3, 0] and idx_ji.tolist() == [1, 2]  # edges 2->1, 1->0; 0->1, 1->2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_triplets_match_brute_force_enumeration(seed, random_molecules):
    z, pos, batch = random_molecules(seed)
    edge_index = radius_graph(pos, 2.5, batch)
    i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, z.numel())
    assert torch.equal(i, edge_index[1]) and torch.equal(j, edge_index[0])
    got = list(zip(idx_i.tolist(), idx_j.tolist(), idx_k.tolist(), idx_kj.tolist(), idx_ji.tolist()))
    # same triplets, in PyG's order: by edge j -> i, then by source k
    assert got == brute_force_triplets(edge_index)
    assert len(got) > 100
    with pytest.raises(ValueError, match=r"triplets: edge_index must have shape \[2, E\]"):
        triplets(edge_index.t(), z.numel())


def dimenet(**kw):
    torch.manual_seed(0)
    return DimeNetPlusPlus(hidden_channels=16, out_channels=1, num_blocks=2, int_emb_size=8,
                           basis_emb_size=4, out_emb_channels=16, num_spherical=3, num_radial=3,
                           output_initializer="glorot_orthogonal", **kw).double()


def test_dimenet_matches_pygs_forward_and_is_invariant(monkeypatch, random_molecules, rotation):
    z, pos, batch = random_molecules()
    model = dimenet()
    ours = model(z, pos, batch)
    assert ours.shape == (2, 1) and bool(ours.abs().min() > 1e-6)
    # PyG's own forward, with its two compiled dependencies replaced by ours
    monkeypatch.setattr(pyg_dimenet, "triplets", triplets)
    monkeypatch.setattr(pyg_dimenet, "radius_graph", radius_graph)
    reference = pyg_dimenet.DimeNetPlusPlus.forward(model, z, pos, batch)
    assert torch.equal(ours, reference)
    moved = pos @ rotation(1).T + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert (model(z, moved, batch) - ours).abs().max() < 1e-10
    perm = torch.cat([torch.randperm(9), 9 + torch.randperm(14)])
    assert (model(z[perm], pos[perm], batch) - ours).abs().max() < 1e-10
