"""Invariance error of the default QM9 model under each training precision, on every device here.

The model (``topoequi train qm9``'s default: implicit steerable kernels, O(3)) takes float32
inputs: 64 molecules of the embedded sample. For 16 Haar-random elements of O(3) (reflections
included) and random translations, the prediction for the moved molecules is compared with the
prediction for the originals; the table gives the largest absolute change over molecules and
elements, in meV of HOMO (the model's output times the target's standard deviation), next to the
same number in float64 (the equivariance of the math alone) and the forward + backward time.
``tf32`` differs from ``float32`` only on CUDA; ``bf16-mixed`` autocasts the matmuls to bfloat16.

    python benchmarks/bench_precision.py [--molecules 64] [--out precision.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def invariance_error(model, batch, device, precision: str, elements: int, std: float) -> float:
    """Largest |f(g x + t) - f(x)| over molecules and ``elements`` random (g, t), in meV."""
    from topoequi.symmetry import O3
    from topoequi.train.device import autocast, set_matmul_precision

    set_matmul_precision(precision)
    g = O3().sample(elements, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    shifts = torch.randn(elements, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    worst = 0.0
    with torch.no_grad(), autocast(device, precision):
        base = model(batch).double()
        for k in range(elements):
            moved = batch.clone()
            moved.pos = (batch.pos.double() @ g[k].T.to(device) + shifts[k].to(device)).to(batch.pos.dtype)
            worst = max(worst, float((model(moved).double() - base).abs().max()))
    return worst * std * 1000.0


def as_float64(batch):
    batch = batch.clone()
    batch.pos = batch.pos.double()
    return batch


def step_time(model, batch, device, precision: str, repeats: int = 5) -> float:
    """Median seconds of one forward + backward."""
    from topoequi.train.device import autocast, set_matmul_precision

    set_matmul_precision(precision)
    times = []
    for _ in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with autocast(device, precision):
            out = model(batch)
        out.float().sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    from torch_geometric.loader import DataLoader

    from topoequi.train import qm9
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.device import PRECISIONS, available_devices

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--molecules", type=int, default=64)
    parser.add_argument("--elements", type=int, default=16)
    parser.add_argument("--root", default=None, help="QM9 cache folder")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()

    dataset, split, stats = qm9.load_data("homo", source="sample", root=args.root, progress=False)
    batch = next(iter(DataLoader(dataset[split["test"][:args.molecules]], batch_size=args.molecules)))
    rows = []
    for name in [d for d in available_devices() if d in ("cpu", "cuda:0")]:
        device = torch.device(name)
        seed_everything(0)
        model = qm9.build_model("implicit", {}, stats).to(device).eval()
        exact = invariance_error(model.double(), as_float64(batch.to(device)), device, "float32", args.elements,
                                 stats.std)
        model.float()
        for precision in PRECISIONS:
            error = invariance_error(model, batch.to(device), device, precision, args.elements, stats.std)
            seconds = step_time(model.train(), batch.to(device), device, precision)
            model.eval()
            rows.append({"device": name, "precision": precision, "max_error_meV": error,
                         "float64_error_meV": exact, "fwd_bwd_ms": 1000 * seconds})
            print(f"{name:7} {precision:11} max |f(gx+t) - f(x)| = {error:.3e} meV "
                  f"(float64: {exact:.1e} meV); forward + backward {1000 * seconds:.1f} ms", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"molecules": args.molecules, "elements": args.elements, "torch": torch.__version__,
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
