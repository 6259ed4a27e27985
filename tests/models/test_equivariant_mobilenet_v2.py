"""EquivariantMobileNetV2: D4-invariant logits in float64, export to a plain MobileNetV2, bad input."""
import pytest
import torch

from topoequi.models.equivariant_mobilenet_v2 import EquivariantMobileNetV2
from topoequi.models.mobilenet_v2 import MobileNetV2
from topoequi.testing.image_equivariance import grid_elements, image_equivariance_error

pytestmark = pytest.mark.usefixtures("one_thread")


def _warmed(model, x):
    torch.nn.init.normal_(model.classifier[1].weight, std=1.0)  # logits of order one
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0  # running statistics = those of x
    model.train()
    with torch.no_grad():
        model(x)  # batch-norm statistics away from their initial values
    return model.eval()


@pytest.mark.parametrize("name", ["D4", "C4"])
def test_logits_are_invariant_to_the_grid_symmetries(name):
    x = torch.randn(4, 3, 33, 33, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model = _warmed(EquivariantMobileNetV2(name, 5, 0.25, input_size=33).double(), x)
    logits = lambda im: model(im)[:, :, None, None]
    error = image_equivariance_error(logits, x, model.in_rep, model.out_rep)
    assert error < 1e-10  # measured: 5.6e-13 (D4) on logits of order one
    assert len(grid_elements(model.group)) == (8 if name == "D4" else 4)
    plain = _warmed(MobileNetV2(5, 0.25).double(), x)
    assert image_equivariance_error(lambda im: plain(im)[:, :, None, None], x, model.in_rep, model.out_rep) > 1e-3


def test_export_is_a_plain_mobilenet_v2_with_the_same_logits():
    x = torch.randn(3, 1, 33, 33)
    model = _warmed(EquivariantMobileNetV2("D4", 10, 0.25, in_channels=1, input_size=33), x)
    plain = model.export()
    assert type(plain) is MobileNetV2 and plain.group_size == 8
    assert not any("topoequi.nn" in type(m).__module__ for m in plain.modules())
    assert torch.allclose(plain(x), model(x), atol=1e-6)
    # the same channels as MobileNetV2 at the same width, eight times fewer weights in the 1x1 layers
    widths = [m.out_channels for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths == [m.out_channels for m in MobileNetV2(10, 0.25, 1).modules() if isinstance(m, torch.nn.Conv2d)]


def test_bad_input():
    with pytest.raises(ValueError, match="EquivariantMobileNetV2: input_size must be 32 m \\+ 1"):
        EquivariantMobileNetV2("D4", input_size=96)
    with pytest.raises(ValueError, match="EquivariantMobileNetV2: group must be a finite group of symmetries"):
        EquivariantMobileNetV2("C8", input_size=33)
    with pytest.raises(ValueError, match="MobileNetV2: width_mult must be a positive number"):
        EquivariantMobileNetV2("D4", width_mult=0, input_size=33)
    model = EquivariantMobileNetV2("D1", 2, 0.25, in_channels=1, input_size=33)
    with pytest.raises(ValueError, match=r"images must be \[B, 1, 33, 33\] \(in_channels, input_size\), got "
                                         r"\[2, 1, 32, 32\]"):
        model(torch.randn(2, 1, 32, 32))
