"""SteerableImageConv: exact grid equivariance for every planar group, the stencil-graph definition, cache, export."""
import pytest
import torch

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv, stencil_offsets
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Rep, group_from_name
from topoequi.symmetry.harmonics import ring_harmonics
from topoequi.testing.image_equivariance import (
    assert_image_equivariant,
    grid_elements,
    transform_image,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def mixed_reps(group):
    irreps = group.irreps(None if group.is_finite else 3)
    rep_in = Rep(group, [(p, 2) for p in irreps[:4]]) + group.standard_rep
    rep_out = group.standard_rep + Rep(group, [(p, 1) for p in irreps[:5]]) + group.trivial_rep(2)
    return rep_in, rep_out


@pytest.mark.parametrize("name", ["C4", "C8", "D4", "D8", "D1", "SO(2)", "O(2)", "D6"])
def test_equivariant_to_grid_symmetries(name):
    group = group_from_name(name)
    rep_in, rep_out = mixed_reps(group)
    conv = SteerableImageConv(rep_in, rep_out, kernel_size=5)
    x = torch.randn(1, rep_in.dim, 9, 9, generator=torch.Generator().manual_seed(0))
    expected = {"C4": 4, "C8": 4, "D4": 8, "D8": 8, "D1": 2, "SO(2)": 4, "O(2)": 8, "D6": 4}[name]
    assert len(grid_elements(group)) == expected
    assert assert_image_equivariant(conv, x, rep_in, rep_out) < 1e-12
    assert conv(x).abs().max() > 1e-2


@pytest.mark.parametrize("stride, padding, dilation, size", [(2, 1, 1, 9), (1, 0, 2, 11), (2, 2, 2, 13), (3, 1, 1, 13)])
def test_stride_padding_dilation(stride, padding, dilation, size):
    group = group_from_name("D4")
    rep_in, rep_out = mixed_reps(group)
    conv = SteerableImageConv(rep_in, rep_out, 3, stride=stride, padding=padding, dilation=dilation)
    x = torch.randn(1, rep_in.dim, size, size, dtype=torch.float64)
    out = conv.double()(x)
    assert out.shape[-1] == (size + 2 * padding - dilation * 2 - 1) // stride + 1
    assert assert_image_equivariant(conv, x, rep_in, rep_out) < 1e-12


@pytest.mark.parametrize("name", ["C8", "D4", "SO(2)"])
def test_regular_fields_in_the_sample_basis(name):
    group = group_from_name(name)
    rep_in = group.trivial_rep(2) if group.is_finite else group.regular_rep(2)
    rep_out = regular_field_rep(group, 3, max_frequency=None if group.is_finite else 2)
    assert rep_out.change_of_basis is not None  # dense blocks: the sparse change of basis is used
    conv = SteerableImageConv(rep_in, rep_out, 5)
    x = torch.randn(2, rep_in.dim, 9, 9, dtype=torch.float64)
    assert assert_image_equivariant(conv, x, rep_in, rep_out) < 1e-12
    second = SteerableImageConv(rep_out, rep_out, 3)
    assert assert_image_equivariant(second, conv.double()(x), rep_out, rep_out) < 1e-12


def test_is_message_passing_on_the_stencil_graph():
    """Output at a pixel = sum over stencil offsets v of W(h(v) (x) f(p + v)), evaluated edge by edge."""
    group = group_from_name("D4")
    rep_in = group.standard_rep + regular_field_rep(group, 1)  # changes of basis on both sides
    rep_out = regular_field_rep(group, 1) + group.trivial_rep(1)
    conv = SteerableImageConv(rep_in, rep_out, 3).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(1, rep_in.dim, 5, 5, dtype=torch.float64)
    out = conv(x)
    h, _ = ring_harmonics(stencil_offsets(3), group, [0, 1], 0.6, [0, 2])
    for row, col in [(2, 2), (1, 3), (0, 0)]:
        total = torch.zeros(rep_out.dim, dtype=torch.float64)
        for e, (dx, dy) in enumerate(stencil_offsets(3).long().tolist()):
            r, c = row - dy, col + dx
            if 0 <= r < 5 and 0 <= c < 5:
                f = conv.in_basis.forward(torch.eye(rep_in.dim, dtype=torch.float64)).T @ x[0, :, r, c]
                total += conv.bilinear(torch.outer(h[e], f)[None])[0]
        total = conv.out_basis(torch.eye(rep_out.dim, dtype=torch.float64)) @ total + conv.expanded_bias()
        assert torch.allclose(out[0, :, row, col], total, atol=1e-12)


def test_bias_only_on_the_invariant_part():
    group = group_from_name("C4")
    rep_out = group.standard_rep + group.trivial_rep(2) + regular_field_rep(group, 1)
    conv = SteerableImageConv(group.trivial_rep(1), rep_out, 3).double()
    torch.nn.init.normal_(conv.bias)
    y = conv(torch.zeros(1, 1, 5, 5, dtype=torch.float64))[0, :, 2, 2]
    assert y.abs().max() > 0.1
    for g in group.elements():
        assert torch.allclose(rep_out.matrices(g[None])[0] @ y, y, atol=1e-12)
    assert conv.bias.numel() == rep_out.num_invariants == 3


def test_eval_caches_the_filter_and_export_is_a_plain_conv2d():
    group = group_from_name("D8")
    rep = regular_field_rep(group, 2)
    conv = SteerableImageConv(rep, rep, 5)
    x = torch.randn(2, rep.dim, 12, 12)
    trained = conv(x)
    conv.eval()
    first = conv._filter_and_bias(torch.float32)[0]
    assert conv._filter_and_bias(torch.float32)[0] is first
    assert torch.allclose(conv(x), trained, atol=1e-5)
    with torch.no_grad():
        next(conv.parameters()).mul_(2.0)
    assert conv._filter_and_bias(torch.float32)[0] is not first  # parameters changed: rebuilt
    plain = conv.export()
    assert type(plain) is torch.nn.Conv2d and plain.weight.shape == (rep.dim, rep.dim, 5, 5)
    assert torch.allclose(plain(x), conv(x), atol=1e-5)
    conv.train()
    assert conv._cache is None


def test_gradients_reach_the_weights():
    group = group_from_name("O(2)")
    rep = group.regular_rep(2)
    conv = SteerableImageConv(rep.repeat(2), rep, 3)
    conv(torch.randn(2, rep.dim * 2, 7, 7)).square().sum().backward()
    assert conv.field_counts == (1, 2)  # two copies of one field: the field-pair basis
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in conv.parameters())


@pytest.mark.parametrize("name", ["D8", "SO(2)"])
def test_field_pair_basis_is_the_general_basis_per_pair(name):
    """C_out x C_in copies of one field: same parameter count and equivariance as the general path."""
    group = group_from_name(name)
    rep = regular_field_rep(group, 3) if group.is_finite else group.regular_rep(2).repeat(3)
    fast, general = SteerableImageConv(rep, rep, 3), SteerableImageConv(rep, rep, 3, split_fields=False)
    assert fast.field_counts == (3, 3) and general.field_counts is None
    assert sum(p.numel() for p in fast.parameters()) == sum(p.numel() for p in general.parameters())
    x = torch.randn(1, rep.dim, 9, 9, dtype=torch.float64)
    assert assert_image_equivariant(fast, x, rep, rep) < 1e-12


def test_interpolated_rotation_agrees_with_the_exact_one():
    group = group_from_name("SO(2)")
    x = torch.randn(1, 2, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    near = group.from_angle(torch.tensor([torch.pi / 2 + 1e-9], dtype=torch.float64))[0]
    exact = transform_image(x, near.round(), group.standard_rep)
    assert (transform_image(x, near, group.standard_rep) - exact).abs().max() < 1e-6
    assert not torch.equal(exact, x)


def test_bad_input():
    d4, c4 = group_from_name("D4"), group_from_name("C4")
    rep = regular_field_rep(d4, 1)
    with pytest.raises(ValueError, match="in_rep must be a representation of a planar group"):
        SteerableImageConv(group_from_name("SO(3)").standard_rep, rep)
    with pytest.raises(ValueError, match="out_rep must be a representation of D4"):
        SteerableImageConv(rep, c4.trivial_rep(1))
    with pytest.raises(ValueError, match="kernel_size=3 carries frequencies up to 2, got max_frequency=3"):
        SteerableImageConv(rep, rep, 3, max_frequency=3)
    with pytest.raises(ValueError, match="no equivariant 1x1 kernel"):
        SteerableImageConv(d4.trivial_rep(1), d4.standard_rep, 1)
    with pytest.raises(ValueError, match=r"kernel_size must be square"):
        SteerableImageConv(rep, rep, (3, 5))
    conv = SteerableImageConv(rep, rep, 3)
    with pytest.raises(ValueError, match="x must have 8 channels"):
        conv(torch.randn(1, 7, 5, 5))
    with pytest.raises(ValueError, match=r"x must be a floating \[B, C, H, W\]"):
        conv(torch.randn(8, 5, 5))
    assert "kernel_size=3" in repr(conv) and "D4" in repr(conv)
