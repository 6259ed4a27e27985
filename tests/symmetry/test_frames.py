import pytest
import torch

from topoequi.symmetry import group_from_name
from topoequi.symmetry.frames import FRAME_GROUPS, FourierFrame, smoothstep

TOL = 1e-12


def improper(group, g):
    """``det`` of the component of each element (planar determinant for axial groups)."""
    return torch.linalg.det(g[:, :2, :2] if group.name.endswith("@R3") else g).sign()


def elements_with_reflections(group, n=6, seed=0):
    g = group.sample(n, generator=torch.Generator().manual_seed(seed))
    if group.has_reflections:
        g[n // 2:] = g[n // 2:] @ group.reflection()
    return g


@pytest.mark.parametrize("name", FRAME_GROUPS)
def test_frame_moves_with_the_data(name):
    # U_s(g . f) = g U_{s det g}(f) and w_s(g . f) = w_{s det g}(f)
    group = group_from_name(name)
    rep = group.regular_rep(2)
    frame = FourierFrame(rep)
    f = torch.randn(6, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    g = elements_with_reflections(group)
    moved = frame(torch.einsum("bij,bj->bi", rep.matrices(g), f))
    base = frame(f)
    assert frame.num_frames == (2 if name in ("O(2)", "O(3)", "O(2)@R3") else 1)
    assert bool(group.contains(base.elements.flatten(0, 1)).all())
    det = improper(group, g)
    if frame.num_frames == 2:
        assert bool((det < 0).any())  # reflections are tested
    for s in range(frame.num_frames):
        t = torch.where(det > 0, s, 1 - s)
        rows = torch.arange(6)
        assert (moved.elements[:, s] - g @ base.elements[rows, t]).abs().max() < TOL
        assert (moved.weights[:, s] - base.weights[rows, t]).abs().max() < TOL
    assert torch.equal(base.confidence, torch.ones(6, dtype=torch.float64))
    assert (moved.confidence - base.confidence).abs().max() < TOL
    assert (base.weights.sum(-1) - 1).abs().max() < TOL


def test_confidence_falls_smoothly_with_the_frequency_one_part():
    group = group_from_name("SO(2)")
    rep = group.regular_rep(2)  # [c0, c1 (2), c2 (2)]
    frame = FourierFrame(rep, min_strength=0.1)
    f = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64).repeat(4, 1)
    f[:, 1] = torch.tensor([0.0, 0.01, 0.03, 1.0])
    strength = f[:, 1] / f.norm(dim=-1) * (5 / 2) ** 0.5
    out = frame(f)
    assert (out.confidence - smoothstep(strength / 0.1)).abs().max() < TOL
    assert out.confidence[0] == 0 and out.confidence[-1] == 1 and 0 < out.confidence[1] < out.confidence[2] < 1
    assert torch.equal(out.elements[0, 0], torch.eye(2, dtype=torch.float64))  # degenerate: identity
    assert torch.allclose(smoothstep(torch.tensor([0.0, 0.5, 1.0, 2.0])), torch.tensor([0.0, 0.5, 1.0, 1.0]))


def test_parallel_vectors_make_a_3d_frame_degenerate():
    group = group_from_name("SO(3)")
    rep = group.regular_rep(1)
    f = torch.randn(1, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    f[0, 4:7] = 2 * f[0, 1:4]  # c_2 = 2 c_1
    assert FourierFrame(rep)(f).confidence.item() < 1e-20  # zero up to rounding of the basis change


def test_vanishing_pseudoscalar_weighs_both_components_equally():
    group = group_from_name("O(3)")
    rep = group.regular_rep(1)
    f = torch.randn(2, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    f[0, 1] = 0.0  # the determinant irrep (0, 1)
    w = FourierFrame(rep)(f).weights
    assert torch.equal(w[0], torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert w[1, 0] != 0.5
    assert torch.linalg.det(FourierFrame(rep)(f).elements[0]).tolist() == pytest.approx([1.0, -1.0])


def test_bad_input():
    with pytest.raises(ValueError, match="no equivariant frame for C4"):
        FourierFrame(group_from_name("C4").regular_rep())
    with pytest.raises(ValueError, match="no equivariant frame for SO\\(2\\)@R3\\+mirror"):
        FourierFrame(group_from_name("SO(2)@R3+mirror").regular_rep(1))
    with pytest.raises(ValueError, match="no frequency-1 part"):
        FourierFrame(group_from_name("SO(3)").regular_rep(0))
    with pytest.raises(ValueError, match="not a band-limited regular representation"):
        FourierFrame(group_from_name("SO(3)").standard_rep)
    with pytest.raises(TypeError, match="rep must be a Rep"):
        FourierFrame("SO(3)")
    with pytest.raises(ValueError, match="must be positive"):
        FourierFrame(group_from_name("SO(2)").regular_rep(1), min_strength=0.0)
