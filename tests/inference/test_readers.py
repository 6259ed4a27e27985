import numpy as np
import pytest

from topoequi.inference import (
    Failure,
    Molecule,
    read_sdf,
    read_smiles_file,
    read_structures,
    read_xyz,
    write_xyz,
)
from topoequi.inference.smiles import SmilesString
from topoequi.typing import WITH_RDKIT

needs_rdkit = pytest.mark.skipif(not WITH_RDKIT, reason="needs RDKit (the qm9 extra)")


def test_xyz_single_frame_is_named_by_the_file(tmp_path, water):
    rows = "".join(f"{s} {x} {y} {z}\n" for s, (x, y, z) in zip("OHH", [p for _, p in water]))
    (tmp_path / "water.xyz").write_text(f"3\nwater, B3LYP\n{rows}")
    [mol] = read_xyz(tmp_path / "water.xyz")
    assert mol.name == "water" and mol.z.tolist() == [8, 1, 1] and mol.formula == "H2O"
    assert mol.pos.dtype == np.float64 and mol.pos[1].tolist() == [0.0, 0.7572, -0.4692]


def test_xyz_multi_frame_reads_past_a_bad_frame(tmp_path):
    text = ("2\nfirst\nC 0 0 0\nO 0 0 1.128\n"
            "\n"  # a blank line between frames is allowed
            "2\nsecond\nC 0 0 0\nO zero 0 1.128\n"
            "3\nthird: QM9's own notation\n6 1.2*^-3 0 0\n1 1.09 0 0\n8 -1.2 0 0.5\n")
    (tmp_path / "frames.xyz").write_text(text)
    first, second, third = read_xyz(tmp_path / "frames.xyz")
    assert first.name == "frames#1" and first.z.tolist() == [6, 8]
    assert isinstance(second, Failure) and second.name == "frames#2"
    assert f"{tmp_path / 'frames.xyz'}:9: expected 'element x y z', got 'O zero 0 1.128'" in second.error
    assert third.z.tolist() == [6, 1, 8] and third.pos[0, 0] == pytest.approx(1.2e-3)


def test_written_xyz_reads_back(tmp_path, water):
    mols = [Molecule.from_arrays("water", [8, 1, 1], [p for _, p in water]),
            Molecule.from_arrays("h2", [1, 1], [[0, 0, 0], [0, 0, 0.7414]])]
    write_xyz(tmp_path / "out.xyz", mols)
    back = read_xyz(tmp_path / "out.xyz")
    assert [m.name for m in back] == ["out#1", "out#2"] and back[1].pos[1, 2] == 0.7414
    assert all(np.array_equal(a.z, b.z) and np.array_equal(a.pos, b.pos) for a, b in zip(mols, back))


def test_xyz_bad_count_and_truncated_frame_name_the_line(tmp_path):
    (tmp_path / "a.xyz").write_text("2\n\nH 0 0 0\nH 0 0 0.74\nthree\n\nH 0 0 0\n")
    ok, bad = read_xyz(tmp_path / "a.xyz")
    assert ok.formula == "H2" and "a.xyz:5: expected the number of atoms, got 'three'" in bad.error
    (tmp_path / "b.xyz").write_text("4\n\nH 0 0 0\nH 0 0 0.74\n")
    [short] = read_xyz(tmp_path / "b.xyz")
    assert "b.xyz:1: the frame announces 4 atoms, the file ends after 2" in short.error


def molblock(title: str, atoms, bonds, dim: str = "3D") -> str:
    lines = [title, f"  topoequi0101260000{dim}", "",
             f"{len(atoms):3d}{len(bonds):3d}  0  0  0  0  0  0  0  0999 V2000"]
    lines += [f"{x:10.4f}{y:10.4f}{z:10.4f} {s:<3} 0  0  0  0  0  0  0  0  0  0  0  0" for s, (x, y, z) in atoms]
    lines += [f"{a:3d}{b:3d}{t:3d}  0" for a, b, t in bonds]
    return "\n".join(lines + ["M  END"])


def test_sdf_records_and_refusals(tmp_path, water):
    atoms = [(s, p) for s, (_, p) in zip("OHH", water)]
    formaldehyde_no_h = [("C", (0, 0, 0)), ("O", (0, 0, 1.2))]  # drawn without its hydrogens
    records = [molblock("water", atoms, [(1, 2, 1), (1, 3, 1)]),
               molblock("", formaldehyde_no_h, [(1, 2, 2)]),
               molblock("flat", atoms, [(1, 2, 1), (1, 3, 1)], dim="2D"),
               molblock("hydroxide", atoms[:2], [(1, 2, 1)]) + "\nM  CHG  1   1  -1"]
    (tmp_path / "set.sdf").write_text("\n$$$$\n".join(records) + "\n$$$$\n")
    water_mol, implicit, flat, hydroxide = read_sdf(tmp_path / "set.sdf")
    assert water_mol.name == "water" and water_mol.z.tolist() == [8, 1, 1]
    assert water_mol.pos[1].tolist() == [0.0, 0.7572, -0.4692]
    assert implicit.name == "set#2" and "atom 1 (C) has bond valence 2: its hydrogens are implicit" in implicit.error
    assert flat.name == "flat" and "2D coordinates" in flat.error and "set.sdf:" in flat.error
    assert hydroxide.formula == "HO"  # the charge explains the missing valence: accepted


@needs_rdkit
def test_sdf_reader_agrees_with_rdkit(tmp_path):
    from rdkit import Chem
    from rdkit.Chem import AllChem

    smiles = ("c1ccccc1O", "CC(=O)N", "OC(F)C#N", "C[NH3+]")
    mols = []
    with Chem.SDWriter(str(tmp_path / "rd.sdf")) as writer:
        for s in smiles:
            mol = Chem.AddHs(Chem.MolFromSmiles(s))
            AllChem.EmbedMolecule(mol, randomSeed=1)
            mol.SetProp("_Name", s)
            writer.write(mol)
            mols.append(mol)
    read = read_sdf(tmp_path / "rd.sdf")
    assert [m.name for m in read] == list(smiles)
    for ours, ref in zip(read, mols):
        assert ours.z.tolist() == [a.GetAtomicNum() for a in ref.GetAtoms()]
        assert np.abs(ours.pos - ref.GetConformer().GetPositions()).max() < 1e-4  # 4 decimals in V2000


def test_smiles_file_and_dispatch(tmp_path):
    (tmp_path / "list.smi").write_text("# SMILES name\nCCO ethanol\n\nO\n")
    assert read_smiles_file(tmp_path / "list.smi") == [SmilesString("CCO", "ethanol"), SmilesString("O", "list:4")]
    assert read_structures("c1ccccc1") == [SmilesString("c1ccccc1", "c1ccccc1")]
    [missing] = read_structures(tmp_path / "none.xyz")
    assert missing.error == f"{tmp_path / 'none.xyz'}: no such file"
    (tmp_path / "data.pdb").write_text("ATOM\n")
    assert "unknown format '.pdb'" in read_structures(tmp_path / "data.pdb")[0].error
    assert "a directory" in read_structures(tmp_path)[0].error
    (tmp_path / "bin.xyz").write_bytes(b"\xff\xfe\x00")
    assert "cannot read the file" in read_structures(tmp_path / "bin.xyz")[0].error
