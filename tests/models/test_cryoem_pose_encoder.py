"""CryoPoseEncoder: exact D4 equivariance of poses and shifts in float64, the matched plain encoder, bad input;
PoseHypothesisEncoder: every hypothesis exactly equivariant, the cube grid spreads the views."""
import pytest
import torch

from topoequi.cryoem.rotations import cube_rotations
from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder, matching_plain_encoder, pose_rep
from topoequi.models.cryoem_pose_hypotheses import PoseHypothesisEncoder
from topoequi.models.steerable_image_cnn import num_parameters
from topoequi.symmetry import group_from_name
from topoequi.testing.image_equivariance import (
    assert_image_equivariant,
    grid_elements,
    transform_image,
)


@pytest.fixture(scope="module")
def images():
    return torch.randn(3, 1, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@torch.no_grad()
def pose_errors(model, images):
    """max |R(g I) - rho(g) R(I)| and max |t(g I) - g t(I)| over the 8 elements of D4."""
    rotations, shifts = model(images)
    group = group_from_name("D4")
    elements = grid_elements(group)
    rho = pose_rep(group).matrices(elements)[:, :3, :3]
    errors = []
    for g, q in zip(elements, rho):
        moved_r, moved_t = model(transform_image(images, g))
        errors.append(max(float((moved_r - q @ rotations).abs().max()), float((moved_t - shifts @ g.T).abs().max())))
    return errors


def test_d4_encoder_is_exactly_equivariant(images):
    model = CryoPoseEncoder("D4", (2, 2, 3), kernel_size=3, pool_after=(0, 1)).double().eval()
    errors = pose_errors(model, images)
    assert len(errors) == 8 and max(errors) < 1e-10  # measured ~1e-14
    # rho(g) = diag(g, det g) is a rotation: the mirror is the 180-degree turn about x
    rho = pose_rep(group_from_name("D4")).matrices(grid_elements(group_from_name("D4")))
    assert torch.allclose(torch.linalg.det(rho[:, :3, :3]), torch.ones(8, dtype=torch.float64))
    assert torch.allclose(rho[4, :3, :3], torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)))
    # the raw head output carries pose_rep on the grid
    assert_image_equivariant(lambda x: model.raw(x)[:, :, None, None], images, model.in_rep, model.out_rep,
                             atol=1e-10)


def test_plain_encoder_matches_parameters_and_is_not_equivariant(images):
    model = CryoPoseEncoder("D4", (4, 4, 8, 8), kernel_size=3)
    plain = matching_plain_encoder(model)
    assert plain.group is None
    assert abs(num_parameters(plain) - num_parameters(model)) / num_parameters(model) < 0.03
    small = CryoPoseEncoder(None, (4, 4, 4), kernel_size=3, pool_after=(0, 1)).double().eval()
    assert max(pose_errors(small, images)) > 1e-3
    rotations, _ = small(images)
    assert (rotations @ rotations.mT - torch.eye(3, dtype=torch.float64)).abs().max() < 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="CryoPoseEncoder: group must be a finite planar group with reflections"):
        CryoPoseEncoder("C4")
    with pytest.raises(ValueError, match="CryoPoseEncoder: channels must be positive ints"):
        CryoPoseEncoder("D4", (2, 0))
    model = CryoPoseEncoder("D4", (1, 1, 1, 1), kernel_size=3)
    with pytest.raises(ValueError, match=r"CryoPoseEncoder: images must be \[B, 1, N, N\]"):
        model(torch.zeros(2, 1, 16, 12))
    with pytest.raises(ValueError, match="CryoPoseEncoder: the image size must be divisible by 8"):
        model(torch.zeros(2, 1, 20, 20))
    assert "CryoPoseEncoder(group=D4, channels=(1, 1, 1, 1)" in repr(model)



def test_cube_rotations_are_the_24_element_group():
    g = cube_rotations()
    keys = {tuple(m.flatten().tolist()) for m in g}
    assert len(keys) == 24
    assert torch.equal(torch.linalg.det(g).round(), torch.ones(24, dtype=torch.float64))
    assert {tuple((a @ b).flatten().tolist()) for a in g for b in g} == keys


def test_every_hypothesis_is_exactly_equivariant_and_the_grid_spreads_views(images):
    torch.manual_seed(0)
    encoder = CryoPoseEncoder("D4", (2, 2, 3), kernel_size=3, pool_after=(0, 1))
    trunk = {k: v.clone() for k, v in encoder.state_dict().items()}
    model = PoseHypothesisEncoder(encoder, 2, "cube").double().eval()
    assert all(torch.equal(trunk[k], v.float()) for k, v in encoder.state_dict().items())  # weights kept
    with torch.no_grad():
        rotations, shifts = model(images)
        single = encoder(images)[0]
    assert model.num_hypotheses == 48 and rotations.shape == (3, 48, 3, 3) and shifts.shape == (3, 48, 2)
    assert torch.allclose(rotations[:, :24], single[:, None] @ cube_rotations(), atol=1e-14)  # head 1 x grid
    # the 24 hypotheses of one head look along 24 different directions g^T v
    assert len(torch.unique(rotations[0, :24, 2].round(decimals=6), dim=0)) == 24
    assert max(pose_errors(model, images)) < 1e-12


def test_hypothesis_encoder_bad_input():
    encoder = CryoPoseEncoder("D4", (1,), kernel_size=3, pool_after=())
    with pytest.raises(ValueError, match="PoseHypothesisEncoder: heads must be an int >= 1, got 0"):
        PoseHypothesisEncoder(encoder, 0)
    with pytest.raises(ValueError, match="PoseHypothesisEncoder: grid must be one of"):
        PoseHypothesisEncoder(encoder, 2, "icosahedron")
    with pytest.raises(TypeError, match="PoseHypothesisEncoder: encoder must be a CryoPoseEncoder"):
        PoseHypothesisEncoder(torch.nn.Linear(2, 2))
