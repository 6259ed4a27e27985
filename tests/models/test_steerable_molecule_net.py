import pytest
import torch
from torch_geometric.data import Batch

from topoequi.datasets import QM9
from topoequi.models.steerable_molecule_net import (
    SteerableMoleculeNet,
    build_steerable_molecule_net,
)
from topoequi.symmetry import Rep, group_from_name
from topoequi.testing import assert_equivariant, equivariance_error

SMALL = "8x0e+2x1o+1x2e"


@pytest.fixture(scope="module")
def molecules():
    dataset = QM9(source="sample", progress=False)
    return Batch.from_data_list([dataset[i] for i in (100, 101, 2000, 4321)])


@pytest.mark.parametrize("kwargs", [{"kernel": "implicit"}, {"kernel": "implicit", "edge_attributes": True},
                                    {"kernel": "implicit", "edge_attributes": True, "node_attributes": True},
                                    {"kernel": "steerable"}, {"kernel": "implicit", "group": "SO(2)@R3"}])
def test_prediction_is_invariant_under_the_group_and_translations(molecules, kwargs):
    torch.manual_seed(0)
    model = SteerableMoleculeNet(num_layers=2, hidden_irreps=SMALL, embedding_dim=8, **kwargs).double().eval()

    def predict(pos):
        batch = molecules.clone()
        batch.pos = pos
        return model(batch)

    group = group_from_name(kwargs.get("group", "O(3)"))
    errors = assert_equivariant(predict, [molecules.pos.double()], ["pos"], None, group=group)
    assert errors[0] < 1e-9
    assert predict(molecules.pos.double()).std() > 1e-3  # molecules get different predictions


def test_subgroup_model_is_not_o3_invariant(molecules):
    torch.manual_seed(1)
    model = SteerableMoleculeNet(num_layers=2, hidden_irreps=SMALL, embedding_dim=8, group="SO(2)@R3").double().eval()

    def predict(pos):
        batch = molecules.clone()
        batch.pos = pos
        return model(batch)

    from topoequi.testing import equivariance_error

    error = equivariance_error(predict, [molecules.pos.double()], ["pos"], None, group=group_from_name("O(3)"))
    assert error[0] > 1e-4


def test_edge_features_look_up_bonds(molecules):
    model = SteerableMoleculeNet(edge_attributes=True, num_layers=1)
    bonds = molecules.edge_index
    far = torch.tensor([[0], [0]])  # a self pair is never a bond
    feats = model.edge_features(molecules, torch.cat([bonds, far], 1))
    assert torch.equal(feats[:-1, 20:24], molecules.edge_attr.float())  # bond one-hot copied
    assert torch.equal(feats[:-1, 24], torch.zeros(bonds.shape[1]))
    assert feats[-1, 24] == 1.0 and feats[-1, 20:24].sum() == 0  # "no bond"
    z = molecules.z
    assert torch.equal(feats[:-1, :10].argmax(1), z[bonds[0]]) and torch.equal(feats[:-1, 10:20].argmax(1), z[bonds[1]])


def test_molecules_are_independent(molecules):
    torch.manual_seed(2)
    model = SteerableMoleculeNet(num_layers=2, hidden_irreps=SMALL, embedding_dim=8).double().eval()
    molecules = molecules.clone()
    molecules.pos = molecules.pos.double()
    together = model(molecules)
    alone = torch.cat([model(Batch.from_data_list([m])) for m in molecules.to_data_list()])
    assert (together - alone).abs().max() < 1e-10


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="unknown hyper-parameters \\['width'\\]"):
        build_steerable_molecule_net("implicit", {"width": 3})
    with pytest.raises(ValueError, match="acts on R\\^2"):
        SteerableMoleculeNet(group="SO(2)")
    for option in ("edge_attributes", "node_attributes"):
        with pytest.raises(ValueError, match="node_attributes need kernel='implicit'"):
            SteerableMoleculeNet(kernel="steerable", **{option: True})


@pytest.mark.parametrize("group", ["O(3)", "SO(2)@R3"])
def test_fourier_nonlinearity_option(molecules, group):
    # adaptive sampling on the fewest samples: invariant to rounding; a fixed grid of as many samples is not
    g = group_from_name(group)
    errors = {}
    for nonlinearity in ("fourier", "fourier_uniform"):
        torch.manual_seed(3)
        model = SteerableMoleculeNet(num_layers=2, embedding_dim=8, nonlinearity=nonlinearity, fourier_channels=2,
                                     group=group).double().eval()
        assert model.hidden_rep == g.regular_rep(1).repeat(2)
        predict = _positions_to_prediction(model, molecules)
        errors[nonlinearity] = equivariance_error(predict, [molecules.pos.double()], ["pos"], None, group=g)[0]
        assert predict(molecules.pos.double()).std() > 1e-3
    assert errors["fourier"] < 1e-12 and errors["fourier_uniform"] > 1e-4
    with pytest.raises(ValueError, match="nonlinearity must be 'gate', 'fourier' or 'fourier_uniform'"):
        SteerableMoleculeNet(nonlinearity="fourier_adaptive")


def _positions_to_prediction(model, molecules):
    def predict(pos):
        batch = molecules.clone()
        batch.pos = pos
        return model(batch)
    return predict


def test_node_attributes_widen_each_kernel_input_by_both_atoms_invariants():
    model = SteerableMoleculeNet(edge_attributes=True, node_attributes=True, embedding_dim=8,
                                 hidden_irreps="6x0e+2x1o")
    static = 2 * 10 + 4 + 1  # atom types of both ends, bond types and "no bond"
    assert [conv.edge_rep.dim for conv in model.convs] == [static + 2 * 8, static + 2 * 6, static + 2 * 6]


def test_builder_gives_the_implicit_model_edge_attributes():
    assert build_steerable_molecule_net("implicit", {}).edge_attributes is True
    assert build_steerable_molecule_net("implicit", {"edge_attributes": False}).edge_attributes is False
    assert build_steerable_molecule_net("steerable", {}).edge_attributes is False
    with pytest.raises(ValueError, match="edge_attributes and node_attributes need"):
        build_steerable_molecule_net("steerable", {"edge_attributes": True})


def test_group_and_hidden_fields_as_objects_or_strings(molecules):
    # a Group object and a representation of that group itself (not restricted from O(3))
    axial = group_from_name("SO(2)@R3")
    hidden = axial.rep("6x0+2x1+1x2")
    torch.manual_seed(2)
    model = SteerableMoleculeNet(num_layers=2, group=axial, hidden_irreps=hidden, embedding_dim=8).double().eval()
    assert model.hidden_rep == hidden
    assert repr(model) == ("SteerableMoleculeNet(kernel='implicit', group=SO(2)@R3, hidden=6x0+2x1+1x2, "
                           "num_layers=2, nonlinearity='gate', cutoff=5.0, readout='add')")

    def predict(pos):
        batch = molecules.clone()
        batch.pos = pos
        return model(batch)

    assert assert_equivariant(predict, [molecules.pos.double()], ["pos"], None, group=axial)[0] < 1e-9
    # an O(3) Rep is restricted as its e3nn string is: the same hidden fields
    as_rep = SteerableMoleculeNet(num_layers=1, group="D4@R3", hidden_irreps=Rep(SMALL), embedding_dim=8)
    as_str = SteerableMoleculeNet(num_layers=1, group="D4@R3", hidden_irreps=SMALL, embedding_dim=8)
    assert as_rep.hidden_rep == as_str.hidden_rep and as_rep.hidden_rep.group == group_from_name("D4@R3")
    with pytest.raises(TypeError, match="SteerableMoleculeNet: group must be a Group or its name, got int"):
        SteerableMoleculeNet(group=3)
