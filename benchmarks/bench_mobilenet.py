"""Equivariant (D4) vs plain MobileNetV2 on rotated MNIST: data efficiency, compute efficiency, int8.

    python benchmarks/bench_mobilenet.py --part data      # accuracy vs training-set size, 3 seeds
    python benchmarks/bench_mobilenet.py --part compute   # parameters, MACs, size, latency, int8
    python benchmarks/bench_mobilenet.py --part plot      # benchmarks/mobilenet_data_efficiency.png

Images are the rotated digits of ``RotatedMNIST`` (28x28, zero-padded to 33x33, the smallest
size the five stride-2 layers keep D4-equivariant); test set: its 1,000 test digits.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import time_calls

from topoequi.datasets.rotated_mnist import RotatedMNIST
from topoequi.models import EquivariantMobileNetV2, matching_plain_mobilenet_v2
from topoequi.quantization import quantize_qat, quantize_static, save_quantized
from topoequi.testing.image_equivariance import grid_elements, transform_image

OUT = Path("runs/bench_mobilenet")
RESULTS = Path(__file__).resolve().parent / "mobilenet_results.json"
COMPUTE = Path(__file__).resolve().parent / "mobilenet_compute.json"


def digits(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    data = RotatedMNIST(split)
    return F.pad(data._data.image, (2, 3, 2, 3)), data._data.y


def models(width: float, seed: int = 0):
    """The equivariant network and its parameter-matched plain MobileNetV2, initialized from ``seed``."""
    torch.manual_seed(seed)
    equivariant = EquivariantMobileNetV2("D4", 10, width, in_channels=1, input_size=33)
    plain = matching_plain_mobilenet_v2(equivariant)
    torch.manual_seed(seed)
    plain.reset_parameters()
    return {"equivariant": equivariant, "plain": plain}


def train(model, x, y, steps: int, seed: int, batch: int = 32):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(x), (min(batch, len(x)),), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@torch.no_grad()
def accuracy(model, x, y) -> float:
    return sum((model(x[i:i + 250]).argmax(1) == y[i:i + 250]).sum().item() for i in range(0, len(x), 250)) / len(x)


def part_data(args) -> None:
    x_train, y_train = digits("train")
    x_test, y_test = digits("test")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    OUT.mkdir(parents=True, exist_ok=True)
    runs = [(n, seed, name) for seed in range(args.seeds) for n in args.sizes for name in ("equivariant", "plain")]
    for n, seed, name in tqdm(runs, desc="train"):
        key = f"{name}/{n}/{seed}"
        if key in results.get("data", {}):
            continue
        model = models(args.width, seed)[name]
        start = time.perf_counter()
        train(model, x_train[:n], y_train[:n], args.steps, seed)
        acc = accuracy(model, x_test, y_test)
        results.setdefault("data", {})[key] = {"accuracy": acc, "seconds": time.perf_counter() - start,
                                               "params": sum(p.numel() for p in model.parameters())}
        torch.save(model.state_dict(), OUT / f"{name}_{n}_{seed}.pt")
        RESULTS.write_text(json.dumps(results, indent=1))
        print(f"{key}: accuracy {acc:.4f}", flush=True)


def macs(model, x) -> int:
    """Multiply-accumulates of the convolutions and linear layers for one image."""
    total = []

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            total.append(out[0].numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1])
        elif isinstance(m, torch.nn.Linear):
            total.append(m.in_features * m.out_features)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d,
                                                                                          torch.nn.Linear))]
    model(x[:1])
    for h in handles:
        h.remove()
    return sum(total)


def file_size(module, x) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        return save_quantized(module, Path(tmp) / "m.pt", x[:1])


def part_compute(args) -> None:
    x_train, y_train = digits("train")
    x_test, y_test = digits("test")
    table = {}
    for name, model in models(args.width).items():
        state = OUT / f"{name}_{max(args.sizes)}_0.pt"
        if state.exists():
            model.load_state_dict(torch.load(state, weights_only=True))
        else:
            train(model, x_train[:max(args.sizes)], y_train[:max(args.sizes)], args.steps, 0)
        model.eval()
        plain = model.export() if name == "equivariant" else model
        calibration = [x_train[i:i + 100] for i in range(0, 500, 100)]
        row = {"params": sum(p.numel() for p in model.parameters()), "macs": macs(plain, x_test),
               "float_accuracy": accuracy(model, x_test, y_test)}
        for engine in args.engines:
            int8 = quantize_static(model, calibration, engine)
            row[f"{engine}_int8_accuracy"] = accuracy(int8, x_test, y_test)
            if engine == args.engines[0]:
                row["float_bytes"], row["int8_bytes"] = file_size(plain, x_test), file_size(int8, x_test)
                for b in (1, 64):
                    for kind, net in (("float", plain), ("int8", int8)):
                        row[f"{kind}_ms_b{b}"] = 1e3 * time_calls(lambda net=net, b=b: net(x_test[:b]), 15, 3).median
                if name == "equivariant":
                    ref = int8(x_test)
                    row["bitwise_invariant_images"] = sum(
                        int(torch.equal(int8(transform_image(x_test, g)), ref)) for g in grid_elements(model.group))
            print(name, engine, row, flush=True)
        qat = quantize_qat(model, [(x_train[i:i + 32], y_train[i:i + 32]) for i in range(0, 1000, 32)],
                           args.engines[0], epochs=1, lr=1e-4)
        row["qat_int8_accuracy"] = accuracy(qat, x_test, y_test)
        table[name] = row
        print(name, row, flush=True)
    COMPUTE.write_text(json.dumps({"rows": table, "threads": torch.get_num_threads(), "torch": torch.__version__,
                                   "engine": args.engines[0], "cpu": os.cpu_count()}, indent=1))


def part_plot(args) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    data = json.loads(RESULTS.read_text())["data"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name in ("equivariant", "plain"):
        sizes = sorted({int(k.split("/")[1]) for k in data if k.startswith(name)})
        accs = [[v["accuracy"] for k, v in data.items() if k.startswith(f"{name}/{n}/")] for n in sizes]
        means = [statistics.mean(a) for a in accs]
        spread = [statistics.pstdev(a) for a in accs]
        ax.errorbar(sizes, means, yerr=spread, marker="o", capsize=3, label=name)
        for n, a in zip(sizes, accs):
            print(f"{name} n={n}: {statistics.mean(a):.4f} +- {statistics.pstdev(a):.4f} ({len(a)} seeds)")
    ax.set_xscale("log")
    ax.set_xlabel("training images (rotated MNIST)")
    ax.set_ylabel("test accuracy")
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(__file__).resolve().parent / "mobilenet_data_efficiency.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["data", "compute", "plot"], required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--engines", nargs="+", default=["x86", "qnnpack"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    {"data": part_data, "compute": part_compute, "plot": part_plot}[args.part](args)


if __name__ == "__main__":
    main()
