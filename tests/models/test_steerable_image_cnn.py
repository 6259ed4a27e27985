"""SteerableImageCNN: invariant logits for every planar group, the parameter-matched plain CNN, export."""
import pytest
import torch

from topoequi.models.steerable_image_cnn import (
    SteerableImageCNN,
    export_plain,
    matching_plain_cnn,
    num_parameters,
)
from topoequi.testing.image_equivariance import grid_elements, image_equivariance_error


@pytest.mark.parametrize("name", ["C8", "D4", "SO(2)", "O(2)"])
def test_logits_are_invariant_to_the_grid_symmetries(name):
    model = SteerableImageCNN(name, channels=(2, 3, 3, 4), hidden=8).eval().double()
    x = torch.randn(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    group = model.group
    trivial = group.trivial_rep(1)
    error = image_equivariance_error(lambda im: model(im)[:, :, None, None], x, trivial, group.trivial_rep(10))
    assert error < 1e-12
    assert len(grid_elements(group)) == (8 if group.has_reflections else 4)
    torch.manual_seed(0)
    plain = SteerableImageCNN(None, channels=(2, 3, 3, 4), hidden=8).eval().double()
    plain_error = image_equivariance_error(lambda im: plain(im)[:, :, None, None], x, trivial, group.trivial_rep(10))
    logits = plain(x.double())
    assert plain_error > 1e-2 * (logits - logits.mean(0)).abs().max()  # the plain control is not invariant


def test_plain_cnn_matches_the_parameter_count():
    model = SteerableImageCNN("C8", channels=(4, 8, 8, 16))
    plain = matching_plain_cnn(model)
    assert plain.group is None
    assert abs(num_parameters(plain) - num_parameters(model)) / num_parameters(model) < 0.03
    assert plain(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_export_plain_gives_the_same_logits():
    model = SteerableImageCNN("D4", channels=(2, 3, 3, 4)).eval()
    x = torch.randn(4, 1, 20, 20)
    expected = model(x)
    exported = export_plain(model)
    assert not any(type(m).__name__ == "SteerableImageConv" for m in exported.modules())
    assert torch.allclose(exported(x), expected, atol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="SteerableImageCNN: group must be a planar group"):
        SteerableImageCNN("SO(3)")
    with pytest.raises(ValueError, match="SteerableImageCNN: channels must be positive ints"):
        SteerableImageCNN("C4", channels=(4, 0))
