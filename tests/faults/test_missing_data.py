"""Faults: data folders that are missing, incomplete or given as an empty path; never a download."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import topoequi
from topoequi.datasets import NODE_DATASETS, load_node_classification
from topoequi.datasets.node_classification import default_source

REPOSITORY = Path(topoequi.__file__).resolve().parents[1]


@pytest.fixture()
def no_download(monkeypatch):
    """Make any download attempt by PyG fail the test."""
    import torch_geometric.datasets.actor
    import torch_geometric.datasets.webkb
    from torch_geometric.io import fs

    def refuse(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args}")

    for module in (torch_geometric.datasets.webkb, torch_geometric.datasets.actor):
        monkeypatch.setattr(module, "download_url", refuse)
    monkeypatch.setattr(fs, "cp", refuse)


def test_the_repository_ships_every_raw_file(monkeypatch):
    monkeypatch.delenv("TOPOEQUI_DATASETS", raising=False)
    source = default_source()
    assert source == REPOSITORY / "datasets"
    files = sorted(p.relative_to(source).as_posix() for d in ("planetoid", "webkb", "actor")
                   for p in (source / d).rglob("*") if p.is_file())
    assert len(files) == 84 and sum((source / f).stat().st_size for f in files) == 4_359_100
    for name in ("texas", "wisconsin", "cornell"):
        assert f"webkb/{name}/raw/{name}_split_0.6_0.2_9.npz" in files
    assert "actor/raw/film_split_0.6_0.2_0.npz" in files
    assert "planetoid/CiteSeer/geom_gcn_splits/citeseer_split_0.6_0.2_9.npz" in files
    assert "TOPOEQUI_DATASETS" in (source / "README.md").read_text()
    assert NODE_DATASETS == ("texas", "wisconsin", "cornell", "actor", "cora", "citeseer")


def test_loads_from_any_working_directory_without_settings(tmp_path, monkeypatch, no_download):
    monkeypatch.delenv("TOPOEQUI_DATASETS", raising=False)
    monkeypatch.chdir(tmp_path)
    data = load_node_classification("cornell", root=tmp_path / "cache")
    assert (data.num_nodes, int(data.y.max()) + 1, int(data.train_mask[:, 0].sum())) == (183, 5, 87)


@pytest.mark.parametrize("name,missing,expected", [
    ("texas", "texas_split_0.6_0.2_3.npz", "webkb/texas/raw/texas_split_0.6_0.2_3.npz"),
    ("actor", "out1_graph_edges.txt", "actor/raw/out1_graph_edges.txt"),
    ("cora", "cora_split_0.6_0.2_7.npz", "planetoid/Cora/geom_gcn_splits/cora_split_0.6_0.2_7.npz"),
])
def test_a_missing_raw_file_names_its_path_and_is_never_downloaded(tmp_path, no_download, name, missing, expected):
    source = tmp_path / "source"
    folder = {"texas": "webkb", "actor": "actor", "cora": "planetoid"}[name]
    shutil.copytree(default_source() / folder, source / folder)
    (source / expected).unlink()
    with pytest.raises(FileNotFoundError, match=f"expected at {source / expected}"):
        load_node_classification(name, root=tmp_path / "cache", source=source)
    assert missing in str(source / expected)


def test_missing_and_empty_source_folders(tmp_path, monkeypatch, no_download):
    with pytest.raises(ValueError, match="source must be a folder path, got an empty string"):
        load_node_classification("texas", root=tmp_path, source="")
    with pytest.raises(FileNotFoundError, match=f"'{tmp_path / 'nowhere'}' does not exist"):
        load_node_classification("texas", root=tmp_path, source=tmp_path / "nowhere")
    monkeypatch.setenv("TOPOEQUI_DATASETS", str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match="elsewhere' does not exist"):
        load_node_classification("texas", root=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=f"expected at {tmp_path / 'empty' / 'webkb' / 'texas' / 'raw'}"):
        load_node_classification("texas", root=tmp_path / "cache", source=tmp_path / "empty")


@pytest.mark.slow
def test_example_runs_from_a_fresh_copy_in_another_directory(tmp_path):
    """A checkout without any folder beside it: the package and datasets/ copied alone."""
    clone = tmp_path / "clone"
    shutil.copytree(REPOSITORY / "topoequi", clone / "topoequi", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPOSITORY / "examples", clone / "examples")
    shutil.copytree(REPOSITORY / "datasets" / "webkb", clone / "datasets" / "webkb")
    env = {k: v for k, v in os.environ.items() if k != "TOPOEQUI_DATASETS"}
    env.update(PYTHONPATH=str(clone), TOPOEQUI_HOME=str(tmp_path / "home"))
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    proc = subprocess.run([sys.executable, str(clone / "examples" / "local_homology_sheaf.py")], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "texas: 183 vertices, 279 edges, 67 triangles" in proc.stdout
    assert (tmp_path / "home" / "datasets" / "webkb" / "texas" / "processed" / "data.pt").is_file()
