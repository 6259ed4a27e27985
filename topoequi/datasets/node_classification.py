"""Node-classification benchmarks with their ten Geom-GCN splits, loaded offline.

The raw files (Cora, CiteSeer, Texas, Wisconsin, Cornell, Actor/Film) ship with
the repository in ``datasets/`` (see ``datasets/README.md``), laid out for PyG
(``planetoid/``, ``webkb/``, ``actor/``). They are copied into a writable cache
root and loaded with PyG's own ``InMemoryDataset`` classes
(``Planetoid(split="geom-gcn")``, ``WebKB``, ``Actor``), whose ``process()``
builds ``processed/`` there; the cache is verified by SHA-256 and rebuilt when
damaged (:class:`~topoequi.datasets.local.LocalDataset`). Nothing is ever
downloaded: a missing file raises ``FileNotFoundError`` naming the path where
it was expected.

The returned graph is made undirected; ``train_mask`` / ``val_mask`` /
``test_mask`` are ``[N, 10]``, one column per split.
"""
from __future__ import annotations

import os
from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.datasets import Actor, Planetoid, WebKB

from topoequi.datasets.local import LocalDataset
from topoequi.files import cache_home

NODE_DATASETS = ("texas", "wisconsin", "cornell", "actor", "cora", "citeseer")
ALIASES = {"film": "actor"}
NUM_SPLITS = 10

REPOSITORY_DATASETS = Path(__file__).resolve().parents[2] / "datasets"
"""The ``datasets/`` folder of the repository, which holds the raw files."""


def default_source() -> Path:
    """``$TOPOEQUI_DATASETS`` when set, else the repository's ``datasets/`` folder (whatever the working directory)."""
    env = os.environ.get("TOPOEQUI_DATASETS")
    return Path(env).expanduser().resolve() if env else REPOSITORY_DATASETS


def default_root() -> Path:
    """``$TOPOEQUI_HOME/datasets`` (default ``~/.cache/topoequi/datasets``)."""
    return cache_home() / "datasets"


class OfflineWebKB(LocalDataset, WebKB):
    """PyG's ``WebKB`` (Texas, Wisconsin, Cornell) from local raw files only."""


class OfflineActor(LocalDataset, Actor):
    """PyG's ``Actor`` (Film) from local raw files only."""


class OfflinePlanetoid(LocalDataset, Planetoid):
    """PyG's ``Planetoid`` (Cora, CiteSeer) from local raw files only, with the Geom-GCN split files.

    ``raw_source`` is the graph's folder: ``raw/`` (``ind.<name>.*``) and ``geom_gcn_splits/``.
    """

    @property
    def split_files(self) -> list[str]:
        return [f"{self.name.lower()}_split_0.6_0.2_{i}.npz" for i in range(NUM_SPLITS)] \
            if self.split == "geom-gcn" else []

    @property
    def required_raw_files(self) -> list[str]:
        return list(self.raw_file_names) + self.split_files

    def source_of(self, name: str) -> Path | None:
        folder = "geom_gcn_splits" if name in self.split_files else "raw"
        return None if self.raw_source is None else self.raw_source / folder / name


def _open_dataset(key: str, root: Path, source: Path):
    if key in ("texas", "wisconsin", "cornell"):
        return OfflineWebKB(str(root / "webkb"), key, raw_source=source / "webkb" / key / "raw")
    if key == "actor":
        return OfflineActor(str(root / "actor"), raw_source=source / "actor" / "raw")
    pyg = {"cora": "Cora", "citeseer": "CiteSeer"}[key]
    return OfflinePlanetoid(str(root / "planetoid"), pyg, split="geom-gcn", raw_source=source / "planetoid" / pyg)


def load_node_classification(name: str, root: str | os.PathLike | None = None,
                             source: str | os.PathLike | None = None, normalize_features: bool = False) -> Data:
    """Load one benchmark graph with its ten splits.

    Args:
        name (str): ``texas``, ``wisconsin``, ``cornell``, ``actor`` (or ``film``),
            ``cora`` or ``citeseer`` (case-insensitive).
        root: writable cache root. (default: :func:`default_root`)
        source: read-only folder with the raw files. (default: :func:`default_source`)
        normalize_features (bool): divide each node's features by their sum (rows of zeros stay zero),
            the bag-of-words preprocessing of Neural Sheaf Diffusion's experiments. (default: ``False``)
    """
    from torch_geometric.utils import to_undirected

    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in NODE_DATASETS:
        raise ValueError(f"name must be one of {', '.join(NODE_DATASETS)} (or film), got {name!r}")
    for arg, value in (("root", root), ("source", source)):
        if value is not None and not str(value).strip():
            raise ValueError(f"{arg} must be a folder path, got an empty string")
    root = Path(root) if root is not None else default_root()
    source = Path(source) if source is not None else default_source()
    if not source.is_dir():
        raise FileNotFoundError(f"dataset source folder '{source}' does not exist (the repository's datasets/ "
                                "holds the raw files; set TOPOEQUI_DATASETS or pass source to use another)")
    dataset = _open_dataset(key, root, source)
    data = dataset[0]
    data.edge_index = to_undirected(data.edge_index, num_nodes=data.num_nodes)
    for mask in ("train_mask", "val_mask", "test_mask"):
        m = getattr(data, mask)
        if m.dim() != 2 or m.size(1) != NUM_SPLITS:
            raise ValueError(f"{name}: expected ten splits in {mask}, got shape {list(m.shape)}")
    if normalize_features:
        data.x = data.x / data.x.sum(-1, keepdim=True).clamp_min(1e-12)
    data.name = key
    return data
