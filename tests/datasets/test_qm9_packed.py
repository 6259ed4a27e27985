"""The packed QM9 format: a file written from the sample builds the same graphs; damaged or foreign files
are refused naming the file."""
import numpy as np
import pytest
import torch

from topoequi.datasets import QM9
from topoequi.datasets.qm9 import SAMPLE_PATH
from topoequi.datasets.qm9_packed import PACKED_FORMAT, load_packed


def first_molecules(count: int) -> dict[str, np.ndarray]:
    """The packed arrays of the sample's first ``count`` molecules."""
    packed = load_packed(SAMPLE_PATH)
    atoms, bonds = int(packed["num_atoms"][:count].sum()), int(packed["num_bonds"][:count].sum())
    per_atom, per_bond = ("z", "pos", "aromatic", "hybridization"), ("bonds", "bond_type")
    return {k: v[:atoms] if k in per_atom else v[:bonds] if k in per_bond else v[:count] for k, v in packed.items()}


def test_a_packed_file_builds_the_same_graphs_as_the_sample(tmp_path):
    path = tmp_path / "qm9_small.npz"
    np.savez_compressed(path, format=np.array(PACKED_FORMAT), **first_molecules(30))
    mine = QM9(str(tmp_path / "cache"), source=str(path), progress=False)
    sample = QM9(str(tmp_path / "sample"), source="sample", subset=30, progress=False)
    assert len(mine) == 30 and mine.source.startswith("packed-")
    for i in (0, 7, 29):
        for key in ("z", "pos", "x", "edge_index", "edge_attr", "y"):
            assert torch.equal(mine[i][key], sample[i][key]), key


def test_damaged_or_foreign_files_are_refused(tmp_path):
    good = tmp_path / "good.npz"
    np.savez_compressed(good, format=np.array(PACKED_FORMAT), **first_molecules(5))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated.npz' is truncated or corrupt"):
        load_packed(truncated)
    other = tmp_path / "other.npz"
    np.savez_compressed(other, format=np.array(PACKED_FORMAT + 1), **first_molecules(5))
    with pytest.raises(ValueError, match=f"has format {PACKED_FORMAT + 1}"):
        load_packed(other)
    arrays = first_molecules(5)
    arrays["y"] = arrays["y"][:4]
    np.savez_compressed(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match=r"inconsistent .*'y': \(4, 5\)"):
        load_packed(tmp_path / "short.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz' does not exist"):
        QM9(str(tmp_path / "cache"), source=str(tmp_path / "missing.npz"))
    with pytest.raises(ValueError, match="or a packed .npz file"):
        QM9(str(tmp_path / "cache"), source="gdb9")


def test_one_altered_byte_fails_the_checksum(tmp_path):
    """Every array is stored with the CRC-32 of its bytes, written with the file and checked as it is read."""
    import zipfile

    good = tmp_path / "good.npz"
    np.savez(good, format=np.array(PACKED_FORMAT), **first_molecules(20))  # uncompressed: only the CRC can tell
    with zipfile.ZipFile(good) as archive:
        member = archive.getinfo("pos.npy")
    raw = bytearray(good.read_bytes())
    raw[member.header_offset + 30 + len(member.filename) + member.file_size // 2] ^= 0x01  # a bit of pos
    altered = tmp_path / "altered.npz"
    altered.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="altered.npz' is truncated or corrupt .*Bad CRC-32 for file 'pos.npy'"):
        load_packed(altered)
    assert load_packed(good)["pos"].shape == (int(first_molecules(20)["num_atoms"].sum()), 3)
