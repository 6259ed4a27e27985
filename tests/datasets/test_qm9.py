import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from topoequi.datasets import (
    QM9,
    TARGETS,
    qm9_packed,
    qm9_raw,
    qm9_split,
    qm9_targets,
)
from topoequi.datasets import qm9 as qm9_module
from topoequi.datasets.local import checksum_problem
from topoequi.typing import WITH_PANDAS, WITH_QM9PACK, WITH_RDKIT

f32 = np.float32
needs_qm9pack = pytest.mark.skipif(not (WITH_QM9PACK and WITH_PANDAS and WITH_RDKIT),
                                   reason="needs the qm9 extra (qm9pack, pandas, rdkit)")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return QM9(str(tmp_path_factory.mktemp("qm9")), source="sample", progress=False)


def test_methane_matches_the_csv_and_pyg_units(sample):
    methane = sample[0]
    assert int(methane.idx) == 1 and methane.name == "gdb_1" and methane.smiles == "C"
    assert methane.z.tolist() == [6, 1, 1, 1, 1]
    # qm9pack CSV: first atom at [-0.0126981359, 1.0858041578, 0.0080009958] Angstrom
    assert methane.pos[0].tolist() == [f32(-0.0126981359), f32(1.0858041578), f32(0.0080009958)]
    y = methane.y[0].numpy()
    har2ev, kcal2ev = f32(qm9_targets.HAR2EV), f32(qm9_targets.KCALMOL2EV)
    # CSV row: mu 0., alpha 13.21, HOMO -0.3877, LUMO 0.1171, gap 0.5048 (Hartree), r2 35.3641,
    # ZPVE 0.044749, U0 -40.47893, U -40.476062, H -40.475117, G -40.498597, cv 6.469, A B C
    assert y[0] == 0 and y[1] == f32(13.21) and y[5] == f32(35.3641) and y[11] == f32(6.469)
    assert y[2] == f32(-0.3877) * har2ev and y[3] == f32(0.1171) * har2ev
    assert y[4] == f32(0.5048) * har2ev and y[6] == f32(0.044749) * har2ev
    assert y[7] == f32(-40.47893) * har2ev and y[10] == f32(-40.498597) * har2ev
    assert y[16:].tolist() == [f32(157.7118), f32(157.70997), f32(157.70699)]
    # MoleculeNet's gdb9.sdf.csv (what PyG reads) has u0_atom .. g298_atom for methane, kcal/mol:
    for value, column in zip((-395.999594594, -398.643290011, -401.014646522, -372.471772148),
                             range(12, 16)):
        assert y[column] == f32(value) * kcal2ev
    assert abs(y[2] * 1000 - (-10549.9)) < 0.1  # HOMO of methane, meV


def test_bonds_and_atom_features(sample):
    methane, acetylene, formaldehyde = sample[0], sample[3], sample[5]
    assert methane.edge_index.tolist() == [[0, 0, 0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 0, 0, 0, 0]]
    assert methane.edge_attr.tolist() == [[1.0, 0.0, 0.0, 0.0]] * 8
    # x: one-hot H C N O F, atomic number, aromatic, sp, sp2, sp3, bonded H count
    assert methane.x[0].tolist() == [0, 1, 0, 0, 0, 6, 0, 0, 0, 1, 4]
    assert methane.x[1].tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert acetylene.smiles == "C#C" and acetylene.z.tolist() == [6, 6, 1, 1]
    triple = acetylene.edge_attr[:, 2] == 1
    assert sorted(map(tuple, acetylene.edge_index[:, triple].t().tolist())) == [(0, 1), (1, 0)]
    assert acetylene.x[:2, 7].tolist() == [1, 1]  # sp carbons
    double = formaldehyde.edge_attr[:, 1] == 1
    assert sorted(map(tuple, formaldehyde.edge_index[:, double].t().tolist())) == [(0, 1), (1, 0)]


def test_bond_orders_give_neutral_valences(sample):
    """Without aromatic bonds, each atom's bond-order sum is its neutral valence."""
    packed = qm9_packed.load_packed(qm9_module.SAMPLE_PATH)
    assert np.bincount(packed["bond_method"], minlength=3).tolist() == [4723, 276, 1]
    valence = torch.zeros(10)
    valence[[1, 6, 7, 8, 9]] = torch.tensor([1.0, 4.0, 3.0, 2.0, 1.0])
    order = torch.tensor([1.0, 2.0, 3.0, 0.0])
    ok = total = 0
    for m in range(1000):
        d = sample[m]
        if d.edge_attr[:, 3].any() or packed["bond_method"][m] == 2:
            continue
        sums = torch.zeros(d.num_nodes).index_add_(0, d.edge_index[0], d.edge_attr @ order)
        ok += bool(torch.equal(sums, valence[d.z]))
        total += 1
    assert total > 600 and ok / total > 0.99, (ok, total)


def test_subset_and_slice(sample):
    small = QM9(sample.root, source="sample", subset=100, progress=False)
    assert len(small) == 100 and int(small[99].idx) == int(sample[99].idx)
    sliced = QM9(sample.root, source="sample", subset=slice(10, 20), progress=False)
    assert len(sliced) == 10 and int(sliced[0].idx) == int(sample[10].idx)
    assert torch.equal(sliced.target("homo"), sample.target("homo")[10:20])
    with pytest.raises(ValueError, match="subset must be in 1..5000"):
        QM9(sample.root, source="sample", subset=5001, progress=False)
    with pytest.raises(ValueError, match="source must be one of"):
        QM9(sample.root, source="csv")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_cache_is_rebuilt(tmp_path, sample, damage):
    shutil.copytree(sample.processed_dir, tmp_path / "processed")
    path = Path(sample.processed_paths[0].replace(sample.root, str(tmp_path)))
    blob = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(blob[: len(blob) // 2])
    else:
        i = len(blob) // 3
        path.write_bytes(blob[:i] + bytes([blob[i] ^ 0xFF]) + blob[i + 1:])
    with pytest.warns(UserWarning, match="corrupt"):
        again = QM9(str(tmp_path), source="sample", subset=10, progress=False)
    assert path.read_bytes() == Path(sample.processed_paths[0]).read_bytes()
    assert torch.equal(again.target("U0"), sample.target("U0")[:10])
    assert checksum_problem(again.checksum_path, again._cache_files(), Path(again.root)) is None


def test_splits():
    full = qm9_split(130_831)
    assert [len(full[k]) for k in ("train", "valid", "test")] == [110_000, 10_000, 10_831]
    paper = qm9_split(130_831, kind="paper")
    assert [len(paper[k]) for k in ("train", "valid", "test")] == [100_000, 17_748, 13_083]
    assert torch.equal(paper["test"], torch.from_numpy(np.random.RandomState(0).permutation(130_831))[-13_083:])
    small = qm9_split(5000)
    assert [len(small[k]) for k in ("train", "valid", "test")] == [4203, 382, 415]
    assert torch.equal(torch.cat(list(small.values())).sort().values, torch.arange(5000))
    assert torch.equal(qm9_split(5000, seed=1)["train"], qm9_split(5000, seed=1)["train"])
    assert not torch.equal(qm9_split(5000, seed=1)["train"], small["train"])
    with pytest.raises(ValueError, match="kind must be one of"):
        qm9_split(100, kind="random")


def test_radius_graph_option(tmp_path, sample):
    ds = QM9(str(tmp_path), source="sample", subset=20, radius=2.0, progress=False)
    for i in (0, 8, 19):
        d = ds[i]
        dist = torch.cdist(d.pos.double(), d.pos.double())
        expected = ((dist < 2.0) & ~torch.eye(d.num_nodes, dtype=torch.bool)).nonzero().t()
        got = d.radius_edge_index
        assert sorted(map(tuple, got.t().tolist())) == sorted(map(tuple, expected.t().tolist()))
        assert torch.equal(d.edge_index, sample[i].edge_index)  # bonds stay in edge_index


@needs_qm9pack
def test_qm9pack_reproduces_the_sample_and_the_csv():
    frame = qm9_raw.read_qm9pack(nrows=40)
    assert frame["Index"].tolist() == list(range(1, 41))
    packed = qm9_packed.pack_molecules(frame, progress=False)
    sample = qm9_packed.load_packed(qm9_module.SAMPLE_PATH)
    n10 = int(sample["num_atoms"][:10].sum())
    b10 = int(sample["num_bonds"][:10].sum())
    assert np.array_equal(packed["z"][:n10], sample["z"][:n10])
    assert np.array_equal(packed["pos"][:n10], sample["pos"][:n10])
    assert np.array_equal(packed["bonds"][:b10], sample["bonds"][:b10])
    assert np.array_equal(packed["y"][:10], sample["y"][:10])
    # every target against the CSV, converted independently in float64
    for name, column in qm9_targets.CSV_COLUMNS.items():
        factor = qm9_targets.HAR2EV if column.endswith("_au") else 1.0
        np.testing.assert_allclose(packed["y"][:, TARGETS.index(name)],
                                   frame[column].to_numpy() * factor, rtol=1e-6, atol=1e-6)
    # atomization energy = E - sum of free-atom energies, in eV
    counts = np.array([[int((packed["z"][s:e] == a).sum()) for a in (1, 6, 7, 8, 9)]
                       for s, e in zip(np.cumsum(packed["num_atoms"]) - packed["num_atoms"],
                                       np.cumsum(packed["num_atoms"]))])
    u0_atom = (frame["InternalEnergy_0K_au"].to_numpy()
               - counts @ np.array(qm9_targets.ATOMREF_HARTREE["U0"])) * qm9_targets.HAR2EV
    np.testing.assert_allclose(packed["y"][:, 12], u0_atom, rtol=2e-6)
