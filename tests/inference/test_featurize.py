import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from topoequi.inference import Molecule
from topoequi.inference.featurize import check_atoms, model_input, molecule_to_data
from topoequi.typing import WITH_RDKIT

needs_rdkit = pytest.mark.skipif(not WITH_RDKIT, reason="needs RDKit (the qm9 extra)")
METHANE = np.array([[0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63], [-0.63, 0.63, -0.63],
                    [0.63, -0.63, -0.63]], dtype=np.float64)


def test_what_qm9_never_saw_is_refused():
    with pytest.raises(ValueError, match=r"element\(s\) Si, Cl not in the training set \(H, C, N, O, F\)"):
        check_atoms(np.array([6, 17, 14, 1, 1]), METHANE)
    with pytest.raises(ValueError, match="a molecule needs at least 2 atoms, got 1"):
        check_atoms(np.array([6]), METHANE[:1])
    pos = METHANE.copy()
    pos[3] = pos[1] + 0.01
    with pytest.raises(ValueError, match=r"atoms 2 and 4 overlap \(0\.017 A apart, less than 0\.5 A\)"):
        check_atoms(np.array([6, 1, 1, 1, 1]), pos)
    pos[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_atoms(np.array([6, 1, 1, 1, 1]), pos)


def test_models_without_bonds_get_z_and_centred_float64_pos():
    data = molecule_to_data(Molecule("methane", np.array([6, 1, 1, 1, 1]), METHANE + 7.5), bonds=False)
    assert data.z.tolist() == [6, 1, 1, 1, 1] and data.pos.dtype == torch.float64
    assert torch.allclose(data.pos, torch.from_numpy(METHANE), atol=1e-14, rtol=0) and "edge_index" not in data


@needs_rdkit
def test_bonds_are_the_training_bonds(qm9_root):
    from topoequi.datasets import QM9

    dataset = QM9(qm9_root, source="sample", progress=False)
    for i in range(0, 5000, 125):  # 40 molecules across the sample
        d = dataset[i]
        mol = Molecule.from_arrays(d.name, d.z, d.pos.double())
        ours = molecule_to_data(mol, bonds=True)
        assert torch.equal(ours.edge_index, d.edge_index) and torch.equal(ours.edge_attr, d.edge_attr), d.name
        assert torch.equal(model_input(Data(z=d.z, pos=d.pos), bonds=True).edge_attr, d.edge_attr)
    kept = model_input(d, bonds=True)
    assert kept.edge_index is d.edge_index and sorted(kept.keys()) == ["edge_attr", "edge_index", "pos", "z"]


def test_bond_features_must_be_the_four_bond_types():
    data = Data(z=torch.tensor([6, 8]), pos=torch.tensor([[0.0, 0, 0], [0, 0, 1.2]]),
                edge_index=torch.tensor([[0, 1], [1, 0]]), edge_attr=torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"edge_attr must one-hot the 4 bond types .* got 3 columns"):
        model_input(data, bonds=True)
    with pytest.raises(ValueError, match="the graph has no 'pos'"):
        model_input(Data(z=torch.tensor([6, 8])), bonds=False)
