"""Offline loading of the Geom-GCN benchmark graphs with their ten splits."""
import pytest

from topoequi.datasets.node_classification import default_source, load_node_classification

pytestmark = pytest.mark.skipif(not (default_source() / "webkb" / "texas").is_dir(),
                                reason="shared datasets not available")


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


def test_bad_names(tmp_path):
    with pytest.raises(ValueError, match="name must be one of"):
        load_node_classification("pubmed", root=tmp_path)
    with pytest.raises(TypeError, match="name must be a str"):
        load_node_classification(3, root=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_node_classification("texas", root=tmp_path, source=tmp_path / "nowhere")
