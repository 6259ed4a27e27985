"""int8 MobileNetV2: bitwise D4-invariant logits on every engine, symmetrized weights, QAT, TorchScript reload."""
import copy
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from topoequi.datasets.rotated_mnist import load_mnist_sample
from topoequi.models.equivariant_mobilenet_v2 import EquivariantMobileNetV2
from topoequi.models.mobilenet_v2 import MobileNetV2
from topoequi.nn.regular_fields import RegularBatchNorm
from topoequi.quantization import (
    ENGINES,
    SPREAD,
    _fused,
    channel_spread,
    check_engine,
    load_quantized,
    quantize_qat,
    quantize_static,
    save_quantized,
    symmetrize_,
    weight_orbits,
)
from topoequi.testing.image_equivariance import grid_elements, transform_image

AVAILABLE = [e for e in ENGINES if e in torch.backends.quantized.supported_engines]


@pytest.fixture(autouse=True, scope="module")
def restore_engine(one_thread):
    engine = torch.backends.quantized.engine
    yield
    torch.backends.quantized.engine = engine


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist_sample()
    x = F.pad(images[:64].float()[:, None] / 255.0, (2, 3, 2, 3))  # 28 -> 33 pixels
    return x, labels[:64]


def warmed(net, x):
    """Batch-norm statistics of ``x`` and logits of order one, as after some training."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0
    torch.nn.init.normal_(net.classifier[1].weight, std=1.0)
    with torch.no_grad():
        net.train()(x)
    return net.eval()


@pytest.fixture(scope="module")
def model(digits):
    torch.manual_seed(0)
    return warmed(EquivariantMobileNetV2("D4", 10, 0.25, in_channels=1, input_size=33), digits[0])


def assert_bitwise_invariant(quantized, x):
    reference = quantized(x)
    for g in grid_elements(quantized_group()):
        assert torch.equal(quantized(transform_image(x, g)), reference)
    return reference


def quantized_group():
    from topoequi.symmetry import group_from_name
    return group_from_name("D4")


@pytest.mark.parametrize("engine", AVAILABLE)
def test_static_int8_logits_are_bitwise_invariant(model, digits, engine):
    x = digits[0]
    quantized = quantize_static(model, [x[:32], x[32:]], engine)
    logits = assert_bitwise_invariant(quantized, x)
    expected = model(x)
    # close to the float logits (an untrained network: its classes are too close to compare argmaxes)
    assert torch.corrcoef(torch.stack([logits.flatten(), expected.flatten()]))[0, 1] > 0.9  # measured 0.96-0.98
    # the plain network of the same weights is not invariant once quantized
    plain = quantize_static(warmed(MobileNetV2(10, 0.25, 1), x), [x], engine)
    assert not torch.equal(plain(transform_image(x, grid_elements(quantized_group())[1])), plain(x))


def test_symmetrize_makes_orbits_exactly_equal(model):
    exported = model.export()
    before = [m.weight.clone() for m in exported.modules() if isinstance(m, torch.nn.Conv2d)]
    symmetrize_(exported, model.group)
    convs = [m for m in exported.modules() if isinstance(m, torch.nn.Conv2d)]
    for k, (conv, old) in enumerate(zip(convs, before)):
        assert (conv.weight - old).abs().max() < 1e-6  # the exported filters were equivariant up to rounding
        labels = weight_orbits(conv, model.group, invariant_input=k == 0)
        flat = conv.weight.reshape(-1)
        assert torch.equal(flat, flat[labels])  # every entry equals its orbit's representative
    stem, depthwise = convs[0], convs[1]
    # 3 invariant input channels x 9 pixels per field for the stem; one 3x3 filter per field (3 orbits: center,
    # edges, corners are linked to other samples) for the depthwise layer
    assert weight_orbits(stem, model.group, invariant_input=True).unique().numel() == stem.out_channels // 8 * 9
    assert weight_orbits(depthwise, model.group).unique().numel() == depthwise.out_channels // 8 * 9


def test_qat_keeps_the_weights_equivariant_and_does_not_depend_on_the_random_state(model, digits):
    x, y = digits
    batches = [(x[:32], y[:32]), (x[32:], y[32:])]
    runs = []
    for seed in (0, 1):  # dropout is off during QAT: the same network whatever the random state
        torch.manual_seed(seed)
        runs.append(quantize_qat(model, batches, AVAILABLE[0], epochs=1, lr=1e-3))
    assert_bitwise_invariant(runs[0], x)
    assert torch.equal(runs[0](x), runs[1](x))


@pytest.mark.slow  # a second Python process imports torch
def test_save_and_reload_without_topoequi(model, digits, tmp_path):
    x = digits[0][:8]
    quantized = quantize_static(model, [digits[0]], AVAILABLE[0])
    path = tmp_path / "emobilenet_int8.pt"
    size = save_quantized(quantized, path, x)
    assert path.stat().st_size == size > 0
    torch.save(x, tmp_path / "x.pt")
    script = (f"import sys, torch; torch.backends.quantized.engine = {AVAILABLE[0]!r}; "
              f"m = torch.jit.load({str(path)!r}); x = torch.load({str(tmp_path / 'x.pt')!r}, weights_only=True); "
              f"torch.save(m(x), {str(tmp_path / 'out.pt')!r}); "
              "assert not any(k.startswith('topoequi') for k in sys.modules)")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    assert torch.equal(torch.load(tmp_path / "out.pt", weights_only=True), quantized(x))


def test_bad_input(model):
    with pytest.raises(ValueError, match="quantize: engine 'tpu' is not available on this platform; expected"):
        check_engine("tpu")
    with pytest.raises(TypeError, match="quantize: model must be an EquivariantMobileNetV2 or a plain MobileNetV2"):
        quantize_static(torch.nn.Linear(2, 2), [torch.randn(1, 2)])
    with pytest.raises(ValueError, match="quantize_static: calibration must hold at least one batch"):
        quantize_static(model, [])
    with pytest.raises(ValueError, match="quantize_qat: epochs must be a positive int"):
        quantize_qat(model, [], epochs=0)
    for bad in ("yes", 1):
        with pytest.raises(TypeError, match=r"quantize: per_channel must be one of \(None, True, False, 'spread'\)"):
            quantize_static(model, [], per_channel=bad)


@pytest.mark.parametrize("engine", AVAILABLE)
def test_weight_scales_per_tensor_or_per_channel_keep_the_logits_bitwise_invariant(model, digits, engine):
    x = digits[0]
    for per_channel, scheme in ((False, torch.per_tensor_affine), (True, torch.per_channel_affine)):
        quantized = quantize_static(model, [x], engine, per_channel=per_channel)
        convs = [m for m in quantized.modules() if isinstance(m, torch.ao.nn.quantized.Conv2d)]
        assert len(convs) == 52 and {c.weight().qscheme() for c in convs} == {scheme}  # every convolution
        assert_bitwise_invariant(quantized, x)


def test_saved_file_is_frozen_and_gives_the_same_logits(model, digits, tmp_path):
    x = digits[0][:8]
    quantized = quantize_static(model, [digits[0]], AVAILABLE[0])
    save_quantized(quantized, tmp_path / "m.pt", x)
    loaded = load_quantized(tmp_path / "m.pt", AVAILABLE[0])
    assert list(loaded.children()) == []  # frozen: the weights are constants of one graph, no submodules
    assert torch.equal(loaded(x), quantized(x))


def test_spread_gives_per_channel_scales_exactly_where_the_channel_ranges_spread(model, digits):
    x = digits[0]

    def schemes(net):
        quantized = quantize_static(net, [x], AVAILABLE[0], per_channel="spread")
        assert_bitwise_invariant(quantized, x)
        return [m.weight().qscheme() == torch.per_channel_affine
                for m in quantized.modules() if isinstance(m, torch.ao.nn.quantized.Conv2d)]

    before = schemes(model)
    spread = copy.deepcopy(model)
    with torch.no_grad():  # one field of the batch norm after the second depthwise convolution: 1000x the others
        [m for m in spread.modules() if isinstance(m, RegularBatchNorm)][4].norm.weight[0] *= 1000.0
    after = schemes(spread)
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [4]  # only that layer changed
    assert not before[4] and after[4] and sum(after) == sum(before) + 1
    convs = [m for m in _fused(spread.export(), AVAILABLE[0]).modules() if isinstance(m, torch.nn.Conv2d)]
    assert channel_spread(convs[4]) > 100 * SPREAD
    assert [channel_spread(c) > SPREAD for c in convs] == after
