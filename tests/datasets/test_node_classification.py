"""Offline loading of the Geom-GCN benchmark graphs (shipped in datasets/) with their ten splits."""
import pytest
import torch

from topoequi.datasets.node_classification import default_source, load_node_classification


def test_texas_loads_offline_with_ten_splits(tmp_path):
    data = load_node_classification("Texas", root=tmp_path)
    assert (data.num_nodes, data.num_features, int(data.y.max()) + 1) == (183, 1703, 5)
    assert data.train_mask.shape == (183, 10)
    # the splits partition (a subset of) the nodes: never overlap
    overlap = data.train_mask.int() + data.val_mask.int() + data.test_mask.int()
    assert overlap.max().item() == 1
    # 60 / 20 / 20 split sizes of the first split (Geom-GCN files)
    assert (int(data.train_mask[:, 0].sum()), int(data.val_mask[:, 0].sum()),
            int(data.test_mask[:, 0].sum())) == (87, 59, 37)
    # undirected, and raw files were copied, never written in the source
    src, dst = data.edge_index, data.edge_index.flip(0)
    key = lambda e: set((e[0] * 1000 + e[1]).tolist())
    assert key(src) == key(dst)
    assert (tmp_path / "webkb" / "texas" / "processed").is_dir()
    assert not (default_source() / "webkb" / "texas" / "processed").exists()


def test_normalized_features_are_the_rows_divided_by_their_sums(tmp_path):
    raw = load_node_classification("texas", root=tmp_path)
    data = load_node_classification("texas", root=tmp_path, normalize_features=True)
    sums = raw.x.sum(-1)
    assert int((sums == 0).sum()) == 0 and float(raw.x.max()) == 1.0  # binary bag of words, no empty page
    assert torch.equal(data.x, raw.x / sums[:, None])
    assert float((data.x.sum(-1) - 1).abs().max()) < 1e-6
    assert torch.equal(data.edge_index, raw.edge_index) and torch.equal(data.y, raw.y)


def test_bad_names(tmp_path):
    with pytest.raises(ValueError, match="name must be one of"):
        load_node_classification("pubmed", root=tmp_path)
    with pytest.raises(TypeError, match="name must be a str"):
        load_node_classification(3, root=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_node_classification("texas", root=tmp_path, source=tmp_path / "nowhere")


@pytest.mark.slow
@pytest.mark.parametrize("name,nodes,features,classes,first_split,edges,triangles,self_loops", [
    ("texas", 183, 1703, 5, (87, 59, 37), 279, 67, 16),
    ("wisconsin", 251, 1703, 5, (120, 80, 51), 450, 118, 16),
    ("cornell", 183, 1703, 5, (87, 59, 37), 277, 59, 3),
    ("film", 7600, 932, 5, (3648, 2432, 1520), 26659, 7121, 93),
    ("cora", 2708, 1433, 7, (1192, 796, 497), 5278, 1630, 0),
    ("citeseer", 3327, 3703, 6, (1596, 1065, 666), 4552, 1167, 0),
])
def test_all_six_graphs_and_their_clique_complexes(tmp_path, name, nodes, features, classes, first_split,
                                                    edges, triangles, self_loops):
    from topoequi.transforms import CliqueComplex

    data = load_node_classification(name, root=tmp_path)
    assert (data.num_nodes, data.num_features, int(data.y.max()) + 1) == (nodes, features, classes)
    assert tuple(int(getattr(data, f"{m}_mask")[:, 0].sum()) for m in ("train", "val", "test")) == first_split
    assert (data.train_mask.int() + data.val_mask.int() + data.test_mask.int()).max().item() == 1
    assert int((data.edge_index[0] == data.edge_index[1]).sum()) == self_loops
    # the clique complex drops the self-loops and both directions: the simple graph and its triangles
    cx = CliqueComplex()(data)
    assert (cx.edges.size(0), cx.triangles.size(0)) == (edges, triangles)
