"""Equivariant (D4) vs plain MobileNetV2 on rotated MNIST: data efficiency, compute efficiency, int8.

    python benchmarks/bench_mobilenet.py --part data      # accuracy vs training-set size, 3 seeds
    python benchmarks/bench_mobilenet.py --part compute   # parameters, MACs, size, latency, int8
    python benchmarks/bench_mobilenet.py --part plot      # benchmarks/mobilenet_data_efficiency.png
    python benchmarks/bench_mobilenet.py --part calibration   # int8 accuracy against calibration digits
    python benchmarks/bench_mobilenet.py --part qat       # int8 accuracy against epochs of quantization-aware training

Images are the rotated digits of ``RotatedMNIST`` (28x28, zero-padded to 33x33, the smallest
size the five stride-2 layers keep D4-equivariant); test set: its 1,000 test digits. Training:
AdamW (one-cycle, lr 1e-2) for ``--steps`` batches of ``--batch`` digits, each digit shifted by a
random offset of up to ``--shift`` pixels (without it both networks memorise pixel positions).
Sizes are compared as ``torch.save`` state dicts and as TorchScript files (traced, frozen);
latencies are medians with one thread, of the eager modules and of the TorchScript files read back,
the float network timed round-robin with the int8 one of each scheme.
"""
from __future__ import annotations

import argparse
import fcntl
import io
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
from _timing import time_interleaved

from topoequi.datasets.rotated_mnist import RotatedMNIST
from topoequi.models import EquivariantMobileNetV2, matching_plain_mobilenet_v2
from topoequi.quantization import quantize_qat, quantize_static, save_quantized
from topoequi.testing.image_equivariance import grid_elements, transform_image
from topoequi.train.images import random_shift

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


def train(model, x, y, steps: int, seed: int, batch: int = 32, lr: float = 1e-2, shift: int = 2):
    """AdamW with a one-cycle schedule, random batches, every image shifted by up to ``shift`` pixels.
    Without the shifts both networks memorise the exact pixels of the training digits (five stride-2
    layers on 33 pixels): a 1-pixel shift of a training digit already costs most of its accuracy."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(x), (min(batch, len(x)),), generator=gen)
        loss = F.cross_entropy(model(random_shift(x[idx], shift, gen)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@torch.no_grad()
def accuracy(model, x, y) -> float:
    return sum((model(x[i:i + 250]).argmax(1) == y[i:i + 250]).sum().item() for i in range(0, len(x), 250)) / len(x)


def _record(key: str, value: dict) -> None:
    """Merge one run into the results file under a lock (two processes may run the data part at once)."""
    with open(Path(tempfile.gettempdir()) / f"{RESULTS.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.setdefault("data", {})[key] = value
        RESULTS.write_text(json.dumps(results, indent=1))


def part_data(args) -> None:
    x_train, y_train = digits("train")
    x_test, y_test = digits("test")
    done = json.loads(RESULTS.read_text()).get("data", {}) if RESULTS.exists() else {}
    OUT.mkdir(parents=True, exist_ok=True)
    runs = [(n, seed, name) for seed in args.seed_list for n in args.sizes for name in args.names]
    for n, seed, name in tqdm(runs, desc="train"):
        key = f"{name}/{n}/{seed}"
        if key in done:
            continue
        model = models(args.width, seed)[name]
        start = time.perf_counter()
        train(model, x_train[:n], y_train[:n], args.steps, seed, args.batch, args.lr, args.shift)
        acc = accuracy(model, x_test, y_test)
        _record(key, {"accuracy": acc, "seconds": time.perf_counter() - start,
                      "params": sum(p.numel() for p in model.parameters()), "steps": args.steps,
                      "batch": args.batch, "lr": args.lr, "shift": args.shift})
        torch.save(model.state_dict(), OUT / f"{name}_{n}_{seed}.pt")
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


def saved_bytes(obj) -> int:
    """Bytes of ``torch.save(obj)`` (a state dict: the weights file)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return len(buffer.getvalue())


def scripted(module, x) -> tuple[int, torch.jit.ScriptModule]:
    """The TorchScript file (traced, frozen) that ``torch.jit.load`` reads without topoequi: its size in
    bytes and the module read back from it."""
    with tempfile.TemporaryDirectory() as tmp:
        size = save_quantized(module, Path(tmp) / "m.pt", x[:1])
        return size, torch.jit.load(Path(tmp) / "m.pt")


def scheme(text: str) -> tuple[str, bool | None]:
    """``engine[:channel|tensor|spread]``: the quantization engine and its weight scales (default: the engine's;
    ``spread``: per channel only where the channels' ranges spread, see :data:`topoequi.quantization.SPREAD`)."""
    engine, _, scales = text.partition(":")
    return engine, {"": None, "channel": True, "tensor": False, "spread": "spread"}[scales]


def latencies(nets: dict, x, batches=(1, 64), repeats=(15, 5), calls=(10, 1)) -> dict:
    """Median milliseconds per call at each batch size (one thread) of each eager network ``name`` and of its
    TorchScript file read back (``name_script``; read afresh for each batch size: TorchScript's profiling
    executor specialises a module to the shapes of its first calls). The networks are timed round-robin, so
    that the load of the machine drifts over all of them alike, each round running ``calls`` calls of one
    network in a row (the steady state of serving it: its weights in the cache, not those timed before)."""
    out = {}
    for b, r, k in zip(batches, repeats, calls):
        modules = {**nets, **{f"{name}_script": scripted(net, x)[1] for name, net in nets.items()}}
        timing = time_interleaved({name: (lambda net=net, b=b, k=k: [net(x[:b]) for _ in range(k)])
                                   for name, net in modules.items()}, r, 2)
        out.update({f"{name}_ms_b{b}": 1e3 * t.median / k for name, t in timing.items()})
    return out


def trained(name: str, model, args, x_train, y_train):
    state = OUT / f"{name}_{max(args.sizes)}_0.pt"
    if state.exists():
        model.load_state_dict(torch.load(state, weights_only=True))
    else:
        train(model, x_train[:max(args.sizes)], y_train[:max(args.sizes)], args.steps, 0, args.batch, args.lr,
              args.shift)
    return model.eval()


@torch.no_grad()
def compute_row(name: str, model, args, x_train, x_test, y_test) -> dict:
    """Sizes, accuracies and latencies of the float network and of its int8 network for each scheme, eager
    and as TorchScript files (the deployed form; freezing folds the float network's batch norms too)."""
    plain = model.export() if name == "equivariant" else model
    calibration = [x_train[i:i + 100] for i in range(0, 500, 100)]
    row = {"params": sum(p.numel() for p in model.parameters()),
           "deployed_weights": sum(p.numel() for p in plain.parameters()), "macs": macs(plain, x_test),
           "float_accuracy": accuracy(model, x_test, y_test), "float_state_bytes": saved_bytes(model.state_dict()),
           "float_deployed_state_bytes": saved_bytes(plain.state_dict()),
           "float_script_bytes": scripted(plain, x_test)[0]}
    for text in args.schemes:
        engine, per_channel = scheme(text)
        int8 = quantize_static(model, calibration, engine, per_channel)
        row[f"{text}_int8_accuracy"] = accuracy(int8, x_test, y_test)
        row[f"{text}_int8_state_bytes"] = saved_bytes(int8.state_dict())
        row[f"{text}_int8_script_bytes"], int8_script = scripted(int8, x_test)
        if name == "equivariant":
            row[f"{text}_bitwise_invariant_elements"] = invariant_elements(int8_script, model.group, x_test)
        row.update(latencies({f"{text}_float": plain, f"{text}_int8": int8}, x_test))
        print(name, text, row, flush=True)
    return row


def part_compute(args) -> None:
    x_train, y_train = digits("train")
    x_test, y_test = digits("test")
    table = {}
    for name, model in models(args.width).items():
        table[name] = compute_row(name, trained(name, model, args, x_train, y_train), args, x_train, x_test, y_test)
    table["pcam_size"] = pcam_size_latency(args, x_test)
    COMPUTE.write_text(json.dumps({"rows": table, "threads": torch.get_num_threads(), "torch": torch.__version__,
                                   "schemes": args.schemes, "cpu": os.cpu_count()}, indent=1))


@torch.no_grad()
def pcam_size_latency(args, x_test) -> dict:
    """Latency of the same two architectures on 97x97 inputs (PCam's 96-pixel patches, one pixel added for
    the stride-2 symmetry), untrained weights with batch norm warmed on upsampled digits (latency only)."""
    images = F.interpolate(x_test[:64], size=97, mode="bilinear")
    out = {}
    torch.manual_seed(0)
    equivariant = EquivariantMobileNetV2("D4", 10, args.width, in_channels=1, input_size=97)
    for name, model in (("equivariant", equivariant), ("plain", matching_plain_mobilenet_v2(equivariant))):
        model.train()(images)
        model.eval()
        plain = model.export() if name == "equivariant" else model
        out[f"{name}_macs"] = macs(plain, images)
        for text in args.schemes:
            engine, per_channel = scheme(text)
            int8 = quantize_static(model, [images], engine, per_channel)
            out.update(latencies({f"{name}_{text}_float": plain, f"{name}_{text}_int8": int8}, images,
                                 repeats=(15, 3)))
        print(out, flush=True)
    return out


@torch.no_grad()
def part_calibration(args) -> None:
    """Static int8 accuracy (and, equivariant, bitwise D4 invariance) of the seed-0 models against the number
    of training digits that calibrate the activation ranges."""
    x_train, y_train = digits("train")
    x_test, y_test = digits("test")
    for name, model in models(args.width).items():
        model = trained(name, model, args, x_train, y_train)
        print(f"{name} float {accuracy(model, x_test, y_test):.3f}", flush=True)
        for text in args.schemes:
            engine, per_channel = scheme(text)
            for n in args.calibration:
                int8 = quantize_static(model, [x_train[i:i + 100] for i in range(0, n, 100)], engine, per_channel)
                line = f"{name} {text} calibration {n}: int8 {accuracy(int8, x_test, y_test):.3f}"
                if name == "equivariant":
                    line += f", bitwise invariant for {invariant_elements(int8, model.group, x_test)} of 8 elements"
                print(line, flush=True)


def invariant_elements(int8, group, images) -> int:
    """How many of the group's grid elements leave the int8 logits of ``images`` bitwise unchanged."""
    ref = int8(images)
    return sum(int(torch.equal(int8(transform_image(images, g)), ref)) for g in grid_elements(group))


def part_qat(args) -> None:
    """int8 accuracy of the seed-0 models after ``--qat-epochs`` passes of quantization-aware training over the
    1,000 training digits (batches of 32, SGD lr 1e-4, projected onto the equivariant weights after every step),
    each pass with fresh random shifts of up to ``--shift`` pixels as in training, for each of ``--schemes``.
    Validation: the 2,500 training digits the models never saw (from 1,000 on), to choose the number of passes."""
    x_train, y_train = digits("train")
    x_test, y_test = digits("test")
    x_valid, y_valid = x_train[1000:], y_train[1000:]
    for name, model in models(args.width).items():
        model = trained(name, model, args, x_train, y_train)
        valid, test = accuracy(model, x_valid, y_valid), accuracy(model, x_test, y_test)
        print(f"{name} float: valid {valid:.4f}, test {test:.3f}", flush=True)
        for text in args.schemes:
            engine, per_channel = scheme(text)
            for passes in args.qat_epochs:
                gen = torch.Generator().manual_seed(0)
                batches = [(random_shift(x_train[i:i + 32], args.shift, gen), y_train[i:i + 32])
                           for _ in range(passes) for i in range(0, 1000, 32)]
                with torch.enable_grad():
                    int8 = quantize_qat(model, batches, engine, epochs=1, lr=1e-4, per_channel=per_channel)
                line = (f"{name} {text} QAT {passes} passes: int8 valid {accuracy(int8, x_valid, y_valid):.4f}, "
                        f"test {accuracy(int8, x_test, y_test):.3f}")
                if name == "equivariant":
                    line += f", bitwise invariant for {invariant_elements(int8, model.group, x_test)} of 8 elements"
                print(line, flush=True)


def part_plot(args) -> None:
    """One curve per model and results file (e.g. two training lengths), mean and spread over seeds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for path, style in zip(args.plot_results or [RESULTS], ("-", "--", ":")):
        data = json.loads(Path(path).read_text())["data"]
        for name, color in (("equivariant", "C0"), ("plain", "C1")):
            runs = {k: v for k, v in data.items() if k.startswith(name + "/")}
            sizes = sorted({int(k.split("/")[1]) for k in runs})
            accs = [[v["accuracy"] for k, v in runs.items() if k.split("/")[1] == str(n)] for n in sizes]
            steps = {v.get("steps") for v in runs.values()}
            label = f"{name}, {'/'.join(str(x) for x in sorted(steps, key=str))} steps"
            ax.errorbar(sizes, [statistics.mean(a) for a in accs], yerr=[statistics.pstdev(a) for a in accs],
                        marker="o", capsize=3, linestyle=style, color=color, label=label)
            for n, a in zip(sizes, accs):
                print(f"{path} {label} n={n}: {statistics.mean(a):.4f} +- {statistics.pstdev(a):.4f} ({len(a)} seeds)")
    ax.set_xscale("log")
    ax.set_xlabel("training digits (rotated MNIST)")
    ax.set_ylabel("test accuracy (1,000 digits)")
    ax.set_title("D4-equivariant vs parameter-matched plain MobileNetV2", fontsize=9)
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(Path(__file__).resolve().parent / "mobilenet_data_efficiency.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["data", "compute", "calibration", "qat", "plot"], required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    parser.add_argument("--seed-list", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--names", nargs="+", default=["equivariant", "plain"], choices=["equivariant", "plain"])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--shift", type=int, default=2, help="random shifts of the training digits, pixels")
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--schemes", nargs="+", default=["x86", "x86:tensor", "qnnpack"],
                        help="int8 schemes, engine[:channel|tensor|spread] (weight scales; default: the engine's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calibration", type=int, nargs="+", default=[500, 1000, 2000, 3500],
                        help="--part calibration: numbers of calibration digits")
    parser.add_argument("--qat-epochs", type=int, nargs="+", default=[1, 3], help="--part qat: passes of QAT")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON file of the data part")
    parser.add_argument("--plot-results", type=Path, nargs="+", help="results files drawn by --part plot")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the trained state dicts")
    args = parser.parse_args()
    globals().update(RESULTS=args.results, OUT=args.out)
    torch.set_num_threads(args.threads)
    parts = {"data": part_data, "compute": part_compute, "calibration": part_calibration, "qat": part_qat,
             "plot": part_plot}
    parts[args.part](args)


if __name__ == "__main__":
    main()
