"""Faults: damaged or stale dataset caches (the project's files, PyG's own, raw copies) are rebuilt, never used."""
import shutil
from pathlib import Path

import pytest
import torch

from topoequi.datasets import QM9, load_node_classification
from topoequi.datasets.node_classification import OfflineWebKB, default_source


def truncate(path: Path) -> None:
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])


@pytest.fixture(scope="module")
def qm9_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("qm9")
    return root, QM9(str(root), source="sample", progress=False)


@pytest.mark.parametrize("name", ["pre_transform.pt", pytest.param("pre_filter.pt", marks=pytest.mark.slow)])
def test_qm9_rebuilds_a_corrupt_pyg_file(tmp_path, qm9_cache, name):
    root, reference = qm9_cache
    shutil.copytree(root / "processed", tmp_path / "processed")
    truncate(tmp_path / "processed" / name)
    with pytest.warns(UserWarning, match=f"corrupt processed/{name}"):
        again = QM9(str(tmp_path), source="sample", progress=False)
    assert torch.equal(again.target("homo"), reference.target("homo"))
    assert (tmp_path / "processed" / name).read_bytes() == (root / "processed" / name).read_bytes()


@pytest.fixture(scope="module")
def texas_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("nodes")
    return root, load_node_classification("texas", root=root)


@pytest.fixture()
def texas_copy(tmp_path, texas_cache):
    root, reference = texas_cache
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return tmp_path, tmp_path / "webkb" / "texas", reference


def same_graph(a, b) -> bool:
    return all(torch.equal(getattr(a, k), getattr(b, k)) for k in ("x", "y", "edge_index", "train_mask", "test_mask"))


@pytest.mark.parametrize("name", ["data.pt", "pre_transform.pt"])
def test_truncated_processed_file_of_a_node_dataset_is_rebuilt(texas_copy, name):
    root, folder, reference = texas_copy
    truncate(folder / "processed" / name)
    with pytest.warns(UserWarning, match=f"corrupt texas/processed/{name}"):
        again = load_node_classification("texas", root=root)
    assert same_graph(again, reference)


def test_damaged_raw_copy_is_replaced_before_processing(texas_copy):
    root, folder, reference = texas_copy
    edges = folder / "raw" / "out1_graph_edges.txt"
    lines = edges.read_text().splitlines(keepends=True)
    edges.write_text("".join(lines[: len(lines) // 2]))  # still parses: half the edges, silently
    shutil.rmtree(folder / "processed")
    again = load_node_classification("texas", root=root)
    assert same_graph(again, reference) and again.edge_index.size(1) == 574
    assert edges.read_bytes() == (default_source() / "webkb" / "texas" / "raw" / edges.name).read_bytes()


def test_cache_built_with_another_pre_transform_is_rebuilt(texas_copy):
    root, _, reference = texas_copy
    source = default_source() / "webkb" / "texas" / "raw"

    def mark(data):
        data.marked = torch.ones(1)
        return data

    with pytest.warns(UserWarning, match="was built with pre_transform None"):
        marked = OfflineWebKB(str(root / "webkb"), "texas", pre_transform=mark, raw_source=source)
    assert torch.equal(marked[0].marked, torch.ones(1)) and torch.equal(marked[0].x, reference.x)
