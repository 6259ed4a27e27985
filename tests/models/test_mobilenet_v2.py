"""MobileNetV2: torchvision's layout and parameter count, the network matched to an equivariant one, bad input."""
import pytest

from topoequi.models.equivariant_mobilenet_v2 import EquivariantMobileNetV2
from topoequi.models.mobilenet_v2 import (
    MobileNetV2,
    make_divisible,
    matching_plain_mobilenet_v2,
    mobilenet_v2_parameters,
)
from topoequi.typing import WITH_TORCHVISION


def test_layout_is_that_of_torchvision():
    assert mobilenet_v2_parameters(1000, 1.0, 3) == 3_504_872  # torchvision.models.mobilenet_v2()
    model = MobileNetV2(10, 0.35, 1)
    assert sum(p.numel() for p in model.parameters()) == mobilenet_v2_parameters(10, 0.35, 1)
    assert make_divisible(32 * 0.35, 8) == 16 and make_divisible(1280, 8) == 1280 and make_divisible(3, 8) == 8
    residual = [m.residual for m in model.features if hasattr(m, "residual")]
    assert len(residual) == 17 and sum(residual) == 10


@pytest.mark.skipif(not WITH_TORCHVISION, reason="torchvision is not installed")
def test_same_parameters_as_torchvision():
    from torchvision.models import mobilenet_v2
    for width in (0.35, 1.0):
        reference = mobilenet_v2(num_classes=10, width_mult=width)
        assert mobilenet_v2_parameters(10, width, 3) == sum(p.numel() for p in reference.parameters())


def test_matching_plain_network():
    model = EquivariantMobileNetV2("D4", 10, 0.5, in_channels=1, input_size=33)
    plain = matching_plain_mobilenet_v2(model)
    count = sum(p.numel() for p in model.parameters())
    assert abs(sum(p.numel() for p in plain.parameters()) - count) / count < 0.05
    assert plain.group_size == 1 and plain.in_channels == 1


def test_bad_input():
    with pytest.raises(ValueError, match="MobileNetV2: num_classes must be a positive int"):
        MobileNetV2(num_classes=0)
