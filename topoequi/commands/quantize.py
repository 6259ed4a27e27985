"""Quantize a trained MobileNetV2 digit classifier to int8 and write it as a TorchScript file.

    topoequi quantize runs/images-mnist-rot-emobilenet-s0/best.pt [--engine x86] [--weights tensor|channel|spread]
                      [--calibration 500] [--qat-passes 0] [--output PATH] [--threads 1]

The checkpoint is one of ``topoequi train images --model emobilenet|mobilenet``. Its first
``--calibration`` training digits set the activation ranges (:func:`topoequi.quantization.quantize_static`);
with ``--qat-passes N``, N passes of quantization-aware training over them follow, the digits shifted as in
training (:func:`~topoequi.quantization.quantize_qat`). The file (default: ``model_int8_ENGINE.pt`` beside the
checkpoint) takes ``[B, 1, 28, 28]`` digits in [0, 1] and returns logits; it needs only torch:
``torch.backends.quantized.engine = ENGINE; torch.jit.load(PATH)``. Printed: test accuracy in float32 and int8,
file sizes, and for the equivariant network on how many of the 8 elements of D4 the int8 logits of every test
digit are bitwise invariant.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MODELS = ("emobilenet", "mobilenet")
WEIGHTS = {"engine": None, "tensor": False, "channel": True, "spread": "spread"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="best.pt or last.pt of `topoequi train images --model emobilenet|mobilenet`")
    parser.add_argument("--engine", default="x86", help="quantized engine: x86, fbgemm or qnnpack")
    parser.add_argument("--weights", choices=tuple(WEIGHTS), default="engine",
                        help="weight scales per output channel, per tensor, per channel only in the layers whose "
                             "channels' ranges spread (topoequi.quantization.SPREAD), or the engine's default")
    parser.add_argument("--calibration", type=int, default=500, help="training digits that calibrate, >= 1")
    parser.add_argument("--qat-passes", type=int, default=0, help="passes of quantization-aware training, >= 0")
    parser.add_argument("--source", default=None, help="folder of the MNIST-rot .amat files (mnist-rot-amat runs)")
    parser.add_argument("--output", default=None,
                        help="TorchScript file (default: model_int8_ENGINE.pt beside the checkpoint)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, >= 1")


class PaddedToNetwork(nn.Module):
    """28-pixel digits padded by (2, 3) to the 33 pixels of the MobileNetV2 digit classifiers, then ``net``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: Tensor) -> Tensor:
        return self.net(F.pad(images, (2, 3, 2, 3)))


def digits(dataset) -> tuple[Tensor, Tensor]:
    """All images ``[N, 1, 28, 28]`` and labels of a split."""
    items = [dataset[i] for i in range(len(dataset))]
    return torch.cat([d.image for d in items]), torch.cat([d.y.view(-1) for d in items])


@torch.no_grad()
def accuracy(net: nn.Module, images: Tensor, labels: Tensor) -> float:
    hits = sum(int((net(images[i:i + 250]).argmax(1) == labels[i:i + 250]).sum()) for i in range(0, len(images), 250))
    return hits / len(images)


def run(args: argparse.Namespace) -> int:
    from topoequi.inference.tasks import load
    from topoequi.progress import progress_bar
    from topoequi.quantization import check_engine, quantize_qat, quantize_static, save_quantized
    from topoequi.testing.image_equivariance import grid_elements, transform_image
    from topoequi.train.images import load_splits, random_shift

    for flag, value, low in (("--calibration", args.calibration, 1), ("--qat-passes", args.qat_passes, 0),
                             ("--threads", args.threads, 1)):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}, got {value}")
    check_engine(args.engine)
    torch.set_num_threads(args.threads)
    predictor = load(args.checkpoint, device="cpu")
    config = predictor.config
    if config.get("task") != "images" or predictor.model_name not in MODELS:
        raise ValueError(f"quantize: checkpoint '{args.checkpoint}' is of model {predictor.model_name!r}; int8 "
                         f"quantization knows the MobileNetV2 digit classifiers ({', '.join(MODELS)})")
    network = predictor.model.model
    splits = load_splits(argparse.Namespace(dataset=config["dataset"], source=args.source,
                                            seed=config.get("seed", 0), limit=config.get("limit")))
    x_train, y_train = digits(splits["train"])
    x_test, y_test = digits(splits["test"])
    calibration, labels = F.pad(x_train[:args.calibration], (2, 3, 2, 3)), y_train[:args.calibration]
    per_channel = WEIGHTS[args.weights]
    if args.qat_passes:
        gen = torch.Generator().manual_seed(0)
        batches = [(random_shift(calibration[i:i + 32], config.get("shift", 0), gen), labels[i:i + 32])
                   for _ in range(args.qat_passes) for i in range(0, len(calibration), 32)]
        batches = progress_bar(batches, desc="quantization-aware training", unit="batch")
        int8 = quantize_qat(network, batches, args.engine, epochs=1, lr=1e-4, per_channel=per_channel)
    else:
        int8 = quantize_static(network, calibration.split(100), args.engine, per_channel)
    output = Path(args.output or Path(args.checkpoint).with_name(f"model_int8_{args.engine}.pt"))
    size = save_quantized(PaddedToNetwork(int8), output, x_test[:1])
    with tempfile.TemporaryDirectory() as tmp:  # the float32 network in the same form, for its size
        deployed = network.export() if predictor.model_name == "emobilenet" else network
        float_size = save_quantized(PaddedToNetwork(deployed), Path(tmp) / "float32.pt", x_test[:1])
    scales = {None: "the engine's default", True: "per channel", False: "per tensor",
              "spread": "per channel where the channels' ranges spread, else per tensor"}[per_channel]
    print(f"{predictor.model_name}: int8 with {args.engine}, weight scales {scales}, {args.calibration} "
          f"calibration digits, {args.qat_passes} QAT passes")
    float_accuracy = accuracy(PaddedToNetwork(network), x_test, y_test)
    print(f"test accuracy ({len(x_test)} digits): float32 {float_accuracy:.4f}, "
          f"int8 {accuracy(PaddedToNetwork(int8), x_test, y_test):.4f}")
    print(f"TorchScript file: float32 {float_size / 1024:.0f} KiB, int8 {size / 1024:.0f} KiB "
          f"({float_size / size:.2f}x smaller)")
    if predictor.model_name == "emobilenet":
        images = F.pad(x_test, (2, 3, 2, 3))
        reference = int8(images)
        same = sum(torch.equal(int8(transform_image(images, g)), reference) for g in grid_elements(network.group))
        print(f"int8 logits bitwise invariant for {same} of the 8 elements of D4 on every test digit (33 pixels)")
    print(f"written: {output}; to use it: torch.backends.quantized.engine = {args.engine!r}; "
          f"model = torch.jit.load({str(output)!r})")
    return 0
