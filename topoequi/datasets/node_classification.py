"""Node-classification benchmarks with their ten Geom-GCN splits, loaded offline.

The raw files (Cora, CiteSeer, Texas, Wisconsin, Cornell, Actor/Film) are
read from a read-only source folder laid out for PyG (``planetoid/``,
``webkb/``, ``actor/``), copied once into a writable cache root, and loaded
with PyG's own ``InMemoryDataset`` classes (``Planetoid(split="geom-gcn")``,
``WebKB``, ``Actor``), whose ``process()`` builds ``processed/`` there. No
download is ever attempted: a missing file raises ``FileNotFoundError``.

The returned graph is made undirected; ``train_mask`` / ``val_mask`` /
``test_mask`` are ``[N, 10]``, one column per split.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from torch_geometric.data import Data

NODE_DATASETS = ("texas", "wisconsin", "cornell", "actor", "cora", "citeseer")
ALIASES = {"film": "actor"}


def default_source() -> Path:
    """``$TOPOEQUI_DATASETS``, else ``shared/datasets`` beside the repository checkout."""
    env = os.environ.get("TOPOEQUI_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "datasets"


def default_root() -> Path:
    """``$TOPOEQUI_HOME/datasets`` (default ``~/.cache/topoequi/datasets``)."""
    home = os.environ.get("TOPOEQUI_HOME", os.path.join(os.path.expanduser("~"), ".cache", "topoequi"))
    return Path(home) / "datasets"


def _copy_tree(src: Path, dst: Path) -> None:
    if not src.is_dir():
        raise FileNotFoundError(f"dataset folder '{src}' does not exist (set TOPOEQUI_DATASETS or pass source)")
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and not (dst / f.name).exists():
            tmp = dst / f".{f.name}.tmp"
            shutil.copyfile(f, tmp)
            os.replace(tmp, dst / f.name)


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
    from torch_geometric.datasets import Actor, Planetoid, WebKB
    from torch_geometric.utils import to_undirected

    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in NODE_DATASETS:
        raise ValueError(f"name must be one of {', '.join(NODE_DATASETS)} (or film), got {name!r}")
    root = Path(root) if root is not None else default_root()
    source = Path(source) if source is not None else default_source()
    if key in ("texas", "wisconsin", "cornell"):
        _copy_tree(source / "webkb" / key / "raw", root / "webkb" / key / "raw")
        dataset = WebKB(str(root / "webkb"), key)
    elif key == "actor":
        _copy_tree(source / "actor" / "raw", root / "actor" / "raw")
        dataset = Actor(str(root / "actor"))
    else:
        pyg = {"cora": "Cora", "citeseer": "CiteSeer"}[key]
        dst = root / "planetoid" / pyg / "geom-gcn" / "raw"
        _copy_tree(source / "planetoid" / pyg / "raw", dst)
        _copy_tree(source / "planetoid" / pyg / "geom_gcn_splits", dst)
        dataset = Planetoid(str(root / "planetoid"), pyg, split="geom-gcn")
    data = dataset[0]
    data.edge_index = to_undirected(data.edge_index, num_nodes=data.num_nodes)
    for mask in ("train_mask", "val_mask", "test_mask"):
        m = getattr(data, mask)
        if m.dim() != 2 or m.size(1) != 10:
            raise ValueError(f"{name}: expected ten splits in {mask}, got shape {list(m.shape)}")
    if normalize_features:
        data.x = data.x / data.x.sum(-1, keepdim=True).clamp_min(1e-12)
    data.name = key
    return data
