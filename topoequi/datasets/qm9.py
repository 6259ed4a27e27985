"""QM9 built offline, from the ``qm9pack`` wheel or from the sample embedded in the repository, with PyG's
target layout (:mod:`topoequi.datasets.qm9_targets`), bonds derived from the coordinates
(:mod:`topoequi.datasets.qm9_raw`) and the packed form (:mod:`topoequi.datasets.qm9_packed`).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.transforms import Compose

from topoequi.datasets.local import LocalDataset, file_sha256
from topoequi.datasets.qm9_packed import data_list_from_packed, load_packed, pack_molecules
from topoequi.datasets.qm9_raw import qm9pack_data_dir, read_qm9pack
from topoequi.datasets.qm9_targets import TARGETS, UNITS, target_index
from topoequi.files import cache_home
from topoequi.transforms.radius_graph import RadiusGraph

__all__ = ["QM9", "SPLITS", "TARGETS", "UNITS", "qm9_split", "target_index"]

NUM_MOLECULES = 130_831
"""Molecules in the full QM9 (133,885 minus the 3,054 that failed the consistency check)."""

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "datasets" / "qm9_sample.npz"
"""The embedded sample (see ``datasets/README.md``)."""


class QM9(LocalDataset):
    r"""QM9 (`Ramakrishnan et al., 2014 <https://doi.org/10.1038/sdata.2014.22>`_) built
    offline, with PyG's target layout (see the module docstring for the mapping).

    Each molecule has ``z``, ``pos`` (Angstrom), ``x`` (11 atom features, the
    first 5 one-hot H, C, N, O, F), bonds derived from the coordinates in
    ``edge_index`` / ``edge_attr`` (one-hot single, double, triple, aromatic),
    ``y`` (``[1, 19]``), ``idx`` (QM9 index), ``name`` and ``smiles``.

    Args:
        root (str, optional): cache folder. (default: ``$TOPOEQUI_HOME/qm9``,
            ``~/.cache/topoequi/qm9``)
        source (str, optional): ``"qm9pack"`` (the full 130,831 molecules, needs
            ``pip install 'topoequi[qm9]'``), ``"sample"`` (the 5,000 molecules
            embedded in the repository), ``"auto"`` (qm9pack when installed
            with pandas and RDKit, else the sample), or the path of a packed ``.npz``
            (e.g. the full QM9 written by ``datasets/make_qm9_sample.py --all``, read without
            qm9pack or RDKit). (default: ``"auto"``)
        subset (int or slice, optional): keep the first ``subset`` molecules,
            or those selected by the slice. (default: ``None``, all)
        radius (float, optional): also store the radius graph within ``radius``
            Angstrom as ``radius_edge_index``. (default: ``None``)
        max_num_neighbors (int, optional): neighbour cap of the radius graph.
            (default: ``32``)
        transform, pre_transform, pre_filter, force_reload: as in
            :class:`~torch_geometric.data.InMemoryDataset`.

    The processed cache (with PyG's ``pre_transform.pt`` / ``pre_filter.pt``) is
    verified against the SHA-256 checksums written next to it; a corrupt or
    truncated cache is rebuilt with a warning, never used
    (:class:`~topoequi.datasets.local.LocalDataset`).
    """

    SOURCES = ("auto", "qm9pack", "sample")
    VERSION = 2  # 2: the checksums also cover PyG's pre_transform.pt / pre_filter.pt

    def __init__(self, root: str | None = None, source: str = "auto",
                 subset: int | slice | None = None, radius: float | None = None,
                 max_num_neighbors: int = 32, transform: Callable | None = None,
                 pre_transform: Callable | None = None, pre_filter: Callable | None = None,
                 force_reload: bool = False, progress: bool = True) -> None:
        self.packed_path = None
        if source not in self.SOURCES:
            if not str(source).endswith(".npz"):
                raise ValueError(f"QM9: source must be one of {self.SOURCES} or a packed .npz file, got {source!r}")
            self.packed_path = Path(source)
            if not self.packed_path.is_file():
                raise FileNotFoundError(f"QM9: packed file '{source}' does not exist")
            source = f"packed-{file_sha256(self.packed_path)[:16]}"  # the cache follows the file's content
        if source == "auto":
            from topoequi.typing import WITH_PANDAS, WITH_QM9PACK, WITH_RDKIT

            source = "qm9pack" if (WITH_QM9PACK and WITH_PANDAS and WITH_RDKIT) else "sample"
        if source == "qm9pack":
            qm9pack_data_dir()  # fail early, with the install hint
        self.source = source
        self.progress = progress
        if root is None:
            root = str(cache_home() / "qm9")
        if radius is not None:
            radius_transform = RadiusGraph(radius, max_num_neighbors=max_num_neighbors, key="radius_edge_index")
            transform = radius_transform if transform is None else Compose([radius_transform, transform])
        super().__init__(root, transform, pre_transform, pre_filter, force_reload=force_reload)
        self.load(self.processed_paths[0])
        if subset is not None:
            self._indices = self._subset_indices(subset)

    def _subset_indices(self, subset: int | slice) -> list[int]:
        n = len(self._data.y)
        if isinstance(subset, slice):
            return list(range(n))[subset]
        if isinstance(subset, bool) or not isinstance(subset, int):
            raise TypeError(f"QM9: subset must be an int or a slice, got {type(subset).__name__}")
        if not 0 < subset <= n:
            raise ValueError(f"QM9: subset must be in 1..{n} for source {self.source!r}, got {subset}")
        return list(range(subset))

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        return [f"qm9_{self.source}_v{self.VERSION}.pt"]

    def process(self) -> None:
        if self.source == "qm9pack":
            packed = pack_molecules(read_qm9pack(), progress=self.progress)
        elif self.packed_path is not None:
            packed = load_packed(self.packed_path)
        else:
            if not SAMPLE_PATH.is_file():
                raise FileNotFoundError(f"QM9: the embedded sample {SAMPLE_PATH} is missing")
            packed = load_packed(SAMPLE_PATH)
        data_list = data_list_from_packed(packed, progress=self.progress)
        if self.pre_filter is not None:
            data_list = [d for d in data_list if self.pre_filter(d)]
        if self.pre_transform is not None:
            data_list = [self.pre_transform(d) for d in data_list]
        self.save(data_list, self.processed_paths[0])

    def target(self, target: int | str) -> Tensor:
        """Values of one target over this dataset (``[len(self)]``, float32)."""
        return self._data.y[torch.as_tensor(self.indices(), dtype=torch.long), target_index(target)]

    def split(self, kind: str = "standard", seed: int = 0) -> dict[str, Tensor]:
        """Train / valid / test positions into this dataset (see :func:`qm9_split`)."""
        return qm9_split(len(self), kind=kind, seed=seed)


SPLITS = {
    # kind: (train, valid) sizes on the full 130,831 molecules; test is the rest
    "standard": (110_000, 10_000),
    "paper": (100_000, NUM_MOLECULES - 100_000 - 13_083),
}


def qm9_split(num_molecules: int, kind: str = "standard", seed: int = 0) -> dict[str, Tensor]:
    """Random train / valid / test split of ``num_molecules`` molecules.

    ``"standard"``: 110,000 / 10,000 / 10,831 (the rest) on the full set, from
    ``numpy.random.RandomState(seed).permutation``. ``"paper"``: 100,000 train,
    17,748 valid, 13,083 test (Cormorant's recipe, used by EGNN and the
    implicit-kernel paper: the permutation with seed 0, then train, valid,
    test in that order). On fewer molecules (the sample, a subset) the sizes
    are scaled in proportion, rounding down, the test set taking the rest.
    """
    if kind not in SPLITS:
        raise ValueError(f"qm9_split: kind must be one of {sorted(SPLITS)}, got {kind!r}")
    if num_molecules < 3:
        raise ValueError(f"qm9_split: need at least 3 molecules, got {num_molecules}")
    n_train, n_valid = (n * num_molecules // NUM_MOLECULES for n in SPLITS[kind])
    n_train, n_valid = max(n_train, 1), max(n_valid, 1)
    perm = torch.from_numpy(np.random.RandomState(seed).permutation(num_molecules))
    return {"train": perm[:n_train], "valid": perm[n_train:n_train + n_valid],
            "test": perm[n_train + n_valid:]}
