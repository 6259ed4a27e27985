import pytest
import torch

from topoequi.symmetry import SO3, Rep, clebsch_gordan, group_from_name
from topoequi.testing import assert_equivariant, equivariance_error

O3 = group_from_name("O(3)")
GEN = torch.Generator().manual_seed(0)


def radial_messages(pos, edge_index):
    """x_i = sum_j exp(-|p_i - p_j|^2) (p_i - p_j): E(n)-equivariant vectors."""
    src, dst = edge_index
    rel = pos[dst] - pos[src]
    w = torch.exp(-(rel**2).sum(-1, keepdim=True))
    return torch.zeros_like(pos).index_add_(0, dst, w * rel)


def test_known_equivariant_function_passes_with_reflections():
    pos = torch.randn(7, 3, generator=GEN)
    edge_index = torch.randint(7, (2, 20), generator=GEN)
    errors = assert_equivariant(radial_messages, [pos, edge_index], ["pos", None], O3.standard_rep)
    assert errors[0] < 1e-12


def test_translation_breaking_function_fails():
    def shifted(pos):
        return pos + torch.tensor([1.0, 0.0, 0.0], dtype=pos.dtype)

    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(shifted, [torch.randn(5, 3)], ["pos"], O3.standard_rep)
    # declared as positions the output follows translations, but a constant offset does not rotate
    assert equivariance_error(shifted, [torch.randn(5, 3)], ["pos"], "pos", group=O3)[0] > 0.1


def test_cross_product_is_a_pseudovector():
    # a x b is SO(3)-equivariant, and O(3)-equivariant only as a pseudovector (1e), not as a vector (1o)
    a, b = torch.randn(4, 3, generator=GEN), torch.randn(4, 3, generator=GEN)
    vector, pseudo = Rep(O3, "1x1o"), Rep(O3, "1x1e")
    cross = torch.linalg.cross
    assert assert_equivariant(cross, [a, b], [SO3().standard_rep] * 2, SO3().standard_rep)[0] < 1e-12
    assert assert_equivariant(cross, [a, b], [vector, vector], pseudo)[0] < 1e-12
    with pytest.raises(AssertionError, match="output 0"):
        assert_equivariant(cross, [a, b], [vector, vector], vector)


def test_clebsch_gordan_product_and_tuple_outputs():
    G = SO3()
    cg = clebsch_gordan(G.irrep(1), G.irrep(2), G.irrep(2))[0]
    rep1, rep2 = Rep(G, [G.irrep(1)]), Rep(G, [G.irrep(2)])

    def product(x, y):
        return torch.einsum("kij,ni,nj->nk", cg.to(x), x, y), x.norm(dim=-1)

    x, y = torch.randn(6, 3, generator=GEN), torch.randn(6, 5, generator=GEN)
    errors = assert_equivariant(product, {"x": x, "y": y}, {"x": rep1, "y": rep2}, [rep2, None])
    assert len(errors) == 2 and max(errors) < 1e-12


def test_non_equivariant_linear_map_fails_and_module_is_cast_to_float64():
    G = SO3()
    rep = Rep(G, "2x0+2x1")
    layer = torch.nn.Linear(rep.dim, rep.dim)  # generic weights mix irreps
    errors = equivariance_error(layer, [torch.randn(3, rep.dim)], [rep], rep)
    assert errors[0] > 1e-3
    assert layer.weight.dtype == torch.float32  # the caller's module is untouched


def test_planar_groups_and_finite_groups():
    d4 = group_from_name("D4")
    pos = torch.randn(5, 2, generator=GEN)
    edge_index = torch.randint(5, (2, 12), generator=GEN)
    assert assert_equivariant(radial_messages, [pos, edge_index], ["pos", None], d4.standard_rep)[0] < 1e-12

    def x_only(p):  # keeps the x coordinate: equivariant to the flip y -> -y, not to rotations by pi/2
        return p * torch.tensor([1.0, 0.0], dtype=p.dtype)

    with pytest.raises(AssertionError):
        assert_equivariant(x_only, [pos], [d4.standard_rep], d4.standard_rep)
    flip = group_from_name("D1")
    assert assert_equivariant(x_only, [pos], [flip.standard_rep], flip.standard_rep, translate=False)[0] == 0


def test_declarations_that_do_not_match_shapes_are_reported():
    G = SO3()
    with pytest.raises(ValueError, match="input 0 is declared 'pos', so its last dimension must be 3"):
        assert_equivariant(lambda p: p, [torch.randn(4, 2)], ["pos"], "pos", group=G)
    with pytest.raises(ValueError, match="2 inputs but 1 declarations"):
        assert_equivariant(lambda a, b: a, [torch.randn(4, 3), torch.randn(4, 3)], ["pos"], "pos", group=G)
    with pytest.raises(ValueError, match="pass group="):
        assert_equivariant(lambda p: p, [torch.randn(4, 3)], ["pos"], "pos")
    with pytest.raises(ValueError, match="output 0 is declared"):
        assert_equivariant(lambda p: p[:, :2], [torch.randn(4, 3)], ["pos"], "pos", group=G)
    with pytest.raises(TypeError, match="not a floating tensor"):
        assert_equivariant(lambda p: p, [torch.arange(3)], [G.standard_rep], G.standard_rep)


def test_representations_are_read_from_the_module():
    # as e3nn's tester reads irreps_in / irreps_out: x carries in_rep, pos moves, edge_attr carries edge_rep
    from topoequi.graph import radius_graph
    from topoequi.nn import GatedNonlinearity, ImplicitSteerableConv

    rep, edge_rep = Rep("2x0e+1x1o"), Rep("1x0e+1x1e")
    conv = ImplicitSteerableConv(rep, rep, edge_rep=edge_rep, cutoff=2.0, channels=2, num_layers=2)
    pos = torch.randn(8, 3, generator=GEN)
    edge_index = radius_graph(pos, r=2.0)
    x, edge_attr = rep.randn(8, generator=GEN), edge_rep.randn(edge_index.shape[1], generator=GEN)
    errors = assert_equivariant(conv, [x, pos, edge_index, edge_attr])
    assert errors[0] < 1e-12
    assert errors == assert_equivariant(conv, [x, pos, edge_index, edge_attr], [rep, "pos", None, edge_rep], rep)
    assert assert_equivariant(conv, {"x": x, "pos": pos, "edge_index": edge_index, "edge_attr": edge_attr})[0] < 1e-12
    # an edge attribute read as a vector field where the layer declares a pseudovector: caught
    wrong = Rep("1x0e+1x1o")
    assert equivariance_error(conv, [x, pos, edge_index, edge_attr], [rep, "pos", None, wrong], rep)[0] > 1e-3
    gate = GatedNonlinearity(Rep("2x0e+2x1o"))
    assert assert_equivariant(gate, [gate.in_rep.randn(5, generator=GEN)])[0] < 1e-12


def test_reading_from_the_module_needs_declarations_it_can_make():
    with pytest.raises(ValueError, match="function has no in_rep; pass reps_in"):
        assert_equivariant(radial_messages, [torch.randn(3, 3)])

    class Mixer(torch.nn.Module):
        in_rep = out_rep = O3.standard_rep

        def forward(self, x, weights):
            return x * weights.sum()

    with pytest.raises(ValueError, match="cannot tell how the group acts on input 'weights' of Mixer"):
        assert_equivariant(Mixer(), [torch.randn(3, 3), torch.randn(3)])
    assert assert_equivariant(Mixer(), [torch.randn(3, 3), torch.randn(3)], [O3.standard_rep, None])[0] < 1e-12
