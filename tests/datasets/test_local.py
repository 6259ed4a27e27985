"""Local datasets: file checksums, the recorded recipe, raw files copied (never downloaded), a verified cache
rebuilt when damaged or built differently."""
import hashlib
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.transforms import Constant

from topoequi.datasets.local import LocalDataset, checksum_problem, describe, file_sha256, write_checksums


class Numbers(LocalDataset):
    """One graph per line of ``numbers.txt``: a single node holding the number."""

    @property
    def raw_file_names(self):
        return "numbers.txt"

    @property
    def processed_file_names(self):
        return "numbers.pt"

    def process(self):
        lines = (Path(self.raw_dir) / "numbers.txt").read_text().split()
        data = [Data(x=torch.tensor([[float(v)]])) for v in lines]
        if self.pre_transform is not None:
            data = [self.pre_transform(d) for d in data]
        self.save(data, self.processed_paths[0])

    def __init__(self, root, **kwargs):
        super().__init__(root, **kwargs)
        self.load(self.processed_paths[0])


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "numbers.txt").write_text("1 2 3\n")
    return folder


def test_sha256_and_recipe_descriptions(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert file_sha256(path) == hashlib.sha256(b"abc").hexdigest()
    assert describe(None) == "None" and describe(Constant(2.0)) == "Constant(value=2.0)"
    assert describe(lambda d: d) == "<function>"                         # no memory address


def test_checksum_files_name_every_problem(tmp_path):
    files = [tmp_path / "a.bin", tmp_path / "sub" / "b.bin"]
    files[1].parent.mkdir()
    for f, payload in zip(files, (b"one", b"two")):
        f.write_bytes(payload)
    listing = tmp_path / "sums.sha256"
    assert checksum_problem(listing, files, tmp_path) == "has no checksum file"
    write_checksums(listing, files, tmp_path)
    assert listing.read_text().splitlines()[1] == f"{hashlib.sha256(b'two').hexdigest()}  sub/b.bin"
    assert checksum_problem(listing, files, tmp_path) is None
    assert checksum_problem(listing, files[:1], tmp_path) == "has a checksum file sums.sha256 for other files"
    files[1].write_bytes(b"twO")
    assert checksum_problem(listing, files, tmp_path) == "has a corrupt sub/b.bin (checksum mismatch)"
    files[1].unlink()
    assert checksum_problem(listing, files, tmp_path) == "lacks sub/b.bin"
    listing.write_text("no separator\n")
    assert checksum_problem(listing, files, tmp_path) == "has an unreadable checksum file sums.sha256"


def test_raw_files_are_copied_and_never_downloaded(tmp_path, source):
    with pytest.raises(FileNotFoundError, match="Numbers: raw file 'numbers.txt' not found; expected at"):
        Numbers(str(tmp_path / "empty"))
    ds = Numbers(str(tmp_path / "data"), raw_source=source)
    assert [d.x.item() for d in ds] == [1.0, 2.0, 3.0]
    assert (Path(ds.raw_dir) / "numbers.txt").read_text() == "1 2 3\n"
    assert checksum_problem(ds.checksum_path, ds._cache_files(), Path(ds.root)) is None


def test_a_damaged_or_differently_built_cache_is_rebuilt(tmp_path, source):
    root = str(tmp_path / "data")
    ds = Numbers(root, raw_source=source)
    processed = Path(ds.processed_paths[0])
    processed.write_bytes(processed.read_bytes()[:-7])
    with pytest.warns(UserWarning, match=r"Numbers: the processed cache .* has a corrupt processed/numbers.pt"):
        again = Numbers(root, raw_source=source)
    assert [d.x.item() for d in again] == [1.0, 2.0, 3.0]
    with pytest.warns(UserWarning, match="was built with pre_transform None, not Constant"):
        constant = Numbers(root, raw_source=source, pre_transform=Constant(5.0))
    assert [d.x.tolist() for d in constant] == [[[1.0, 5.0]], [[2.0, 5.0]], [[3.0, 5.0]]]
