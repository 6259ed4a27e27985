"""What predict accepts for molecules, flattened to one entry per structure in the order given."""
import numpy as np
import torch
from torch_geometric.data import Batch, Data

from topoequi.inference import Failure, Molecule
from topoequi.inference.inputs import expand_inputs, flatten_inputs
from topoequi.inference.smiles import SmilesString


def test_molecule_inputs_expand_in_order(tmp_path):
    (tmp_path / "h2.xyz").write_text("2\n\nH 0 0 0\nH 0 0 0.74\n2\n\nH 0 0 0\nH 0 0 0.75\n")
    graphs = Batch.from_data_list([Data(z=torch.tensor([1, 1]), pos=torch.zeros(2, 3))] * 2)
    mol = Molecule.from_arrays("m", [1, 1], np.zeros((2, 3)))
    entries = expand_inputs([graphs, "CCO", tmp_path / "h2.xyz", ([1, 1], [[0, 0, 0], [0, 0, 1]]), mol, 7])
    assert [type(e).__name__ for e in entries] == ["Data", "Data", "SmilesString", "Molecule", "Molecule",
                                                   "Molecule", "Molecule", "Failure"]
    assert entries[2] == SmilesString("CCO", "CCO") and [e.name for e in entries[3:5]] == ["h2#1", "h2#2"]
    assert entries[5].name == "molecule_4" and entries[5].pos[1, 2] == 1.0 and entries[6] is mol
    assert entries[7] == Failure("input_6", "cannot predict on a int; expected Data, Batch, "
                                            "(atomic numbers, positions), a file path or SMILES")


def test_a_single_input_is_one_structure():
    [pair] = expand_inputs(([8, 1, 1], np.zeros((3, 3))))  # one (z, pos) pair, not two inputs
    assert pair.name == "molecule_1" and pair.z.tolist() == [8, 1, 1]
    [smiles] = expand_inputs("O")
    assert smiles == SmilesString("O", "O")
    [bad] = expand_inputs([([8, 1], np.zeros((3, 3)))])
    assert bad.name == "molecule_1" and "positions must have shape [2, 3] for 2 atoms, got [3, 3]" in bad.error
    both = expand_inputs((SmilesString("C", "a"), SmilesString("N", "b")))  # a tuple of two inputs
    assert [e.name for e in both] == ["a", "b"]


def test_flatten_keeps_ready_entries_and_converts_the_rest():
    seen = []

    def convert(k, item):
        seen.append((k, item))
        return [f"{item}-{j}" for j in range(item)]

    failure = Failure("f", "unreadable")
    out = flatten_inputs([2, "ready", failure, 0, 1], ready=(str,), convert=convert)
    assert out == ["2-0", "2-1", "ready", failure, "1-0"] and seen == [(0, 2), (3, 0), (4, 1)]
    assert flatten_inputs(3, ready=(), convert=convert, single=lambda item: item == 3) == ["3-0", "3-1", "3-2"]
