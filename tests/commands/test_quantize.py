"""topoequi quantize: the int8 file of a trained MobileNetV2 gives the printed accuracy, bitwise D4-invariant."""
import argparse
import re

import pytest
import torch

from topoequi.commands.quantize import add_arguments, digits, run
from topoequi.quantization import ENGINES
from topoequi.train.images import load_splits

ENGINE = next(e for e in ENGINES if e in torch.backends.quantized.supported_engines)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def _train(folder, model: str, *extra: str) -> str:
    from topoequi.cli import build_parser
    from topoequi.train import images

    args = build_parser().parse_args(["train", "images", "--model", model, "--epochs", "1", "--limit", "64",
                                      "--batch-size", "32", "--out", str(folder), "--no-progress", *extra])
    images.run(args)
    return str(folder / "best.pt")


@pytest.fixture(scope="module")
def emobilenet_ckpt(tmp_path_factory, one_thread):
    torch.manual_seed(0)
    return _train(tmp_path_factory.mktemp("emobilenet"), "emobilenet", "--width", "0.25")


@pytest.fixture(autouse=True, scope="module")
def restore_engine():
    engine = torch.backends.quantized.engine
    yield
    torch.backends.quantized.engine = engine


def test_written_file_gives_the_printed_accuracy_and_is_bitwise_invariant(emobilenet_ckpt, tmp_path, capsys):
    output = tmp_path / "int8.pt"
    assert run(_args(emobilenet_ckpt, "--engine", ENGINE, "--weights", "tensor", "--calibration", "48",
                     "--qat-passes", "1", "--output", str(output))) == 0
    out = capsys.readouterr().out
    assert "weight scales per tensor, 48 calibration digits, 1 QAT passes" in out
    assert "bitwise invariant for 8 of the 8 elements of D4" in out
    printed = float(re.search(r"int8 (\d\.\d{4})", out).group(1))
    model = torch.jit.load(str(output))
    x, y = digits(load_splits(argparse.Namespace(dataset="mnist-rot", source=None, seed=0, limit=64))["test"])
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (64, 10)
    assert (logits.argmax(1) == y).double().mean().item() == pytest.approx(printed, abs=5e-5)
    assert list(model.children()) == []  # frozen, no topoequi modules inside


@pytest.mark.parametrize(("argv", "message"), [
    (["--calibration", "0"], "--calibration must be at least 1, got 0"),
    (["--qat-passes", "-1"], "--qat-passes must be at least 0, got -1"),
    (["--engine", "tpu"], "quantize: engine 'tpu' is not available on this platform"),
])
def test_bad_arguments_are_refused(emobilenet_ckpt, argv, message):
    with pytest.raises(ValueError, match=message):
        run(_args(emobilenet_ckpt, *argv))


def test_a_checkpoint_of_another_model_is_refused(tmp_path, one_thread):
    ckpt = _train(tmp_path, "c4", "--channels", "2,2")
    with pytest.raises(ValueError, match="is of model 'c4'; int8 quantization knows the MobileNetV2 digit"):
        run(_args(ckpt))
