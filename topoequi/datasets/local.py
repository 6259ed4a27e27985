"""PyG datasets built from local files only, with caches that are checked before they are trusted.

:class:`LocalDataset` is an :class:`~torch_geometric.data.InMemoryDataset` that

* never downloads: each raw file is copied from a local folder, ``raw_source`` (again
  whenever the copy differs from its source), and a missing file raises
  ``FileNotFoundError`` naming the path where it was expected;
* trusts its cache only when it matches the SHA-256 checksums written right after it was
  built (``<first processed file>.sha256``), which cover the raw copies, the processed files
  and PyG's own ``pre_transform.pt`` / ``pre_filter.pt``. A missing, truncated or altered
  file is rebuilt with a warning, never loaded; so is a cache built with another
  ``pre_transform`` or ``pre_filter`` (where PyG would warn and load it).

Put it first among the base classes: ``class OfflineWebKB(LocalDataset, WebKB)``.
"""
from __future__ import annotations

import filecmp
import hashlib
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch_geometric.data import InMemoryDataset

from topoequi.files import atomic_write

PYG_CACHE_FILES = ("pre_transform.pt", "pre_filter.pt")
"""The files PyG writes beside the processed data to record how it was built."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe(transform) -> str:
    """How PyG records a ``pre_transform`` / ``pre_filter`` in its ``.pt`` files (memory addresses dropped)."""
    return "None" if transform is None else re.sub(r"(<.*?)\s.*(>)", r"\1\2", str(transform))


def write_checksums(path: Path, files: Sequence[Path], root: Path) -> None:
    """Write ``<sha256>  <path relative to root>`` for each file, atomically."""
    lines = "".join(f"{file_sha256(f)}  {f.relative_to(root).as_posix()}\n" for f in files)
    atomic_write(path, lines)


def checksum_problem(path: Path, files: Sequence[Path], root: Path) -> str | None:
    """``None`` when ``path`` lists exactly ``files`` with matching SHA-256, else what is wrong."""
    try:
        listed = dict(line.split("  ", 1)[::-1] for line in path.read_text().splitlines())
    except FileNotFoundError:
        return "has no checksum file"
    except (OSError, UnicodeDecodeError, ValueError):
        return f"has an unreadable checksum file {path.name}"
    expected = {f.relative_to(root).as_posix(): f for f in files}
    if set(listed) != set(expected):
        return f"has a checksum file {path.name} for other files"
    for name, f in expected.items():
        if not f.is_file():
            return f"lacks {name}"
        if file_sha256(f) != listed[name]:
            return f"has a corrupt {name} (checksum mismatch)"
    return None


class LocalDataset(InMemoryDataset):
    r"""An ``InMemoryDataset`` that never downloads and verifies its cache (see the module docstring).

    Args:
        args, kwargs: those of the PyG dataset class it is combined with.
        raw_source (path, optional): read-only folder holding the raw files (see
            :meth:`source_of`). (default: ``None``: they must already be in ``raw_dir``)
    """

    def __init__(self, *args, raw_source: str | os.PathLike | None = None, **kwargs) -> None:
        self.raw_source = None if raw_source is None else Path(raw_source)
        super().__init__(*args, **kwargs)

    def source_of(self, name: str) -> Path | None:
        """Where the raw file ``name`` is read from: ``raw_source / name`` (subclasses may lay it out otherwise)."""
        return None if self.raw_source is None else self.raw_source / name

    @property
    def required_raw_files(self) -> list[str]:
        """Every raw file ``process()`` reads (PyG's ``raw_file_names`` unless a subclass needs more)."""
        names = self.raw_file_names
        return [names] if isinstance(names, str) else list(names)

    @property
    def checksum_path(self) -> Path:
        return Path(self.processed_paths[0] + ".sha256")

    def download(self) -> None:
        """Copy the raw files from ``raw_source``; raise ``FileNotFoundError`` for a missing one."""
        for name in self.required_raw_files:
            dst, src = Path(self.raw_dir) / name, self.source_of(name)
            if src is None and dst.is_file():
                continue
            if src is None or not src.is_file():
                raise FileNotFoundError(f"{type(self).__name__}: raw file '{name}' not found; expected at "
                                        f"{src or dst} (nothing is ever downloaded)")
            if not (dst.is_file() and filecmp.cmp(src, dst, shallow=False)):
                atomic_write(dst, src.read_bytes())

    def _download(self) -> None:  # PyG skips download() when the raw files exist; copies are checked anyway
        self.download()

    def _cache_files(self) -> list[Path]:
        raw = [Path(self.raw_dir) / name for name in self.required_raw_files]
        processed = [Path(p) for p in self.processed_paths]
        return raw + processed + [Path(self.processed_dir) / name for name in PYG_CACHE_FILES]

    def _recipe_problem(self) -> str | None:
        """What differs between this dataset's ``pre_transform`` / ``pre_filter`` and the cached ones."""
        for name, transform in zip(PYG_CACHE_FILES, (self.pre_transform, self.pre_filter)):
            cached = torch.load(Path(self.processed_dir) / name, weights_only=True)
            if cached != describe(transform):
                return f"was built with {name[:-3]} {cached}, not {describe(transform)}"
        return None

    def _process(self) -> None:
        files, root = self._cache_files(), Path(self.root)
        problem = None if self.force_reload else (checksum_problem(self.checksum_path, files, root)
                                                  or self._recipe_problem())
        rebuild = self.force_reload or problem is not None
        if rebuild:
            built = [self.checksum_path, *files[len(self.required_raw_files):]]
            if problem is not None and any(f.exists() for f in built):
                warnings.warn(f"{type(self).__name__}: the processed cache in {self.processed_dir} {problem}; "
                              "rebuilding it", stacklevel=4)
            for f in built:
                f.unlink(missing_ok=True)
        super()._process()
        if rebuild:
            write_checksums(self.checksum_path, files, root)
