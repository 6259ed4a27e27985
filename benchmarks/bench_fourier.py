"""Fourier nonlinearities: uniform vs adaptive sampling, and against escnn's ``FourierPointwise``.

One run measures, for band-limited regular features of SO(2), O(2), SO(3),
O(3) (and a finite group), with ELU as the pointwise function:

1. **Equivariance error vs the number of samples N**, uniform grids
   (ours: ``G.grid(N)``; escnn: its ``regular`` / ``fibonacci`` grids) and
   adaptive sampling (ours, grids moved by the equivariant frame). The error
   is relative, ``max_g ||Phi(g . x) - g . Phi(x)|| / ||Phi(x)||`` over a
   batch of Gaussian coefficients scaled to unit-variance samples, for 8
   random elements (half of them reflections where the group has them), in
   float64. ``N_min = dim rho`` is the fewest samples a well-posed
   least-squares inverse allows.
2. **Graceful degradation**: the adaptive error and the output as the
   frequency-1 part that defines the frame vanishes (SO(2)) or its two
   vectors become parallel (SO(3)).
3. **Speed and memory at equal error** (float32, forward + backward, one
   thread, interleaved repeats): our adaptive layer on ``N_min`` samples vs
   escnn's ``FourierPointwise`` (and our uniform layer) on the smallest grid
   of the sweep whose error is below each of ``--targets`` (1e-3, 1e-6). Memory
   is what autograd saves for the backward pass (distinct storages, MiB): the
   activation memory a layer adds to training.
4. **End to end**: :class:`~topoequi.models.SteerableMoleculeNet` on the QM9
   sample (HOMO, eV) with the gated nonlinearity, Fourier with adaptive
   sampling and Fourier with a uniform grid of the same size, each trained
   for the same CPU-time budget; test MAE on the original and on randomly
   rotated/reflected molecules, and the largest change of a prediction
   under O(3).

    python benchmarks/bench_fourier.py                          # ~6 min, 1 thread
    python benchmarks/bench_fourier.py --budget 20 --no-plot    # quicker
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import time_interleaved

from topoequi.nn import FourierNonlinearity
from topoequi.symmetry import group_from_name

# (our group, band-limit, escnn builder name, escnn grid type)
GROUPS = [("SO(2)", 3, "so2", "regular"), ("O(2)", 2, "o2", "regular"),
          ("SO(3)", 2, "so3", "fibonacci"), ("O(3)", 1, "o3", "fibonacci")]
MULTIPLIERS = [1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128]


# ----------------------------------------------------------------------------------------------- errors
def relative_error(layer, x: torch.Tensor, mats: list[torch.Tensor]) -> float:
    """``max_g ||Phi(x rho(g)^T) - Phi(x) rho(g)^T|| / ||Phi(x)||``."""
    with torch.no_grad():
        y = layer(x)
        return max(((layer(x @ m.T) - y @ m.T).norm() / y.norm()).item() for m in mats)


def our_elements(group, n: int = 8) -> torch.Tensor:
    g = group.sample(n, generator=torch.Generator().manual_seed(0))
    if group.has_reflections:
        g[n // 2:] = g[n // 2:] @ group.reflection()
    return g


def unit_samples(x: torch.Tensor, sampling: torch.Tensor) -> torch.Tensor:
    """Scale coefficients so that their samples have unit mean square."""
    return x / (x @ sampling.T).square().mean().sqrt()


class EscnnLayer(torch.nn.Module):
    """escnn's ``FourierPointwise`` on plain tensors ``[B, C dim]``, with the matrices of its representation."""

    def __init__(self, builder: str, band: int, channels: int, grid_type: str, n: int):
        super().__init__()
        from escnn import group as egroup
        from escnn import gspaces
        from escnn import nn as enn

        g = {"so2": egroup.so2_group, "o2": egroup.o2_group, "so3": egroup.so3_group, "o3": egroup.o3_group}[builder]
        self.group = g(band)
        grid = (n,) if grid_type == "regular" else (grid_type, n)
        kwargs = {"type": "regular"} if grid_type == "regular" else {}
        if builder == "o2":  # O(2)'s regular grid has n rotations and n reflections
            grid = (n // 2,)
        self.layer = enn.FourierPointwise(gspaces.no_base_space(self.group), channels, self.group.bl_irreps(band),
                                          *grid, function="p_elu", inplace=False, **kwargs)
        self.in_type = self.layer.in_type
        self.samples = self.layer.A.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from escnn.nn import GeometricTensor

        return self.layer(GeometricTensor(x, self.in_type)).tensor

    def elements(self, n: int = 8) -> list[torch.Tensor]:
        """Matrices of ``n`` random elements of the single-channel representation, half improper if possible."""
        std = self.group.standard_representation()
        proper, improper = [], []
        for _ in range(200):
            g = self.group.sample()
            (proper if torch.linalg.det(torch.tensor(std(g))) > 0 else improper).append(g)
        chosen = improper[: n // 2]
        chosen += proper[: n - len(chosen)]
        rho = self.layer.rho
        return [torch.tensor(rho(g), dtype=torch.float64) for g in chosen]


def error_sweep(batch: int) -> list[dict]:
    rows = []
    for name, band, builder, grid_type in GROUPS:
        group = group_from_name(name)
        rep = group.regular_rep(band)
        mats = rep.matrices(our_elements(group))
        x0 = torch.randn(batch, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        sizes = sorted({_even(group, round(m * rep.dim)) for m in MULTIPLIERS})
        for n in [None, *sizes]:
            for adaptive in (False, True):
                if adaptive and n is not None and n > 4 * rep.dim:
                    continue  # exact already at N_min
                try:
                    layer = FourierNonlinearity(rep, samples=n, adaptive=adaptive)
                except ValueError:  # a grid too irregular for a well-posed inverse at this size
                    continue
                x = unit_samples(x0, layer.sampling)
                rows.append({"group": name, "dim": rep.dim, "impl": "ours", "sampling": (
                    "adaptive" if adaptive else "uniform") + (" design" if n is None else ""),
                    "samples": layer.sampling.shape[0], "error": relative_error(layer, x, mats)})
        for n in sizes:
            layer = EscnnLayer(builder, band, 1, grid_type, n).double()
            emats = layer.elements()
            x = unit_samples(torch.randn(batch, rep.dim, dtype=torch.float64,
                                         generator=torch.Generator().manual_seed(1)), layer.layer.A)
            rows.append({"group": name, "dim": rep.dim, "impl": "escnn", "sampling": f"uniform {grid_type}",
                             "samples": layer.samples, "request": n, "error": relative_error(layer, x, emats)})
    finite = group_from_name("Oh")
    rep = finite.regular_rep()
    mats = rep.matrices(our_elements(finite))
    x = torch.randn(batch, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for adaptive in (False, True):
        layer = FourierNonlinearity(rep, adaptive=adaptive)
        rows.append({"group": "Oh", "dim": rep.dim, "impl": "ours", "sampling": "adaptive" if adaptive else "uniform",
                         "samples": layer.sampling.shape[0], "error": relative_error(layer, unit_samples(
                             x, layer.sampling), mats)})
    return rows


def _even(group, n: int) -> int:
    return n + n % 2 if group.has_reflections else n


# ------------------------------------------------------------------------------------------ degradation
def degradation() -> list[dict]:
    """Adaptive vs uniform error on N_min samples as the frame degenerates; the output's distance to the limit."""
    rows = []
    for name, band in (("SO(2)", 2), ("SO(3)", 1)):
        group = group_from_name(name)
        rep = group.regular_rep(band)
        adaptive = FourierNonlinearity(rep, adaptive=True)
        uniform = FourierNonlinearity(rep, samples=adaptive.elements)
        mats = rep.matrices(our_elements(group))
        x = torch.randn(1, rep.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
        x = unit_samples(x, adaptive.sampling)
        lo, hi = adaptive.frame.vector_offsets[0], adaptive.frame.vector_offsets[0] + (2 if name == "SO(2)" else 3)
        for t in [1.0, 1e-1, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 1e-6, 1e-9, 0.0]:
            xt = x.clone()
            if name == "SO(2)":  # the frequency-1 part vanishes
                xt[:, lo:hi] *= t
            else:  # the second vector turns onto the first: c_2 = c_1 + t (c_2 - c_1)
                second = adaptive.frame.vector_offsets[1]
                xt[:, second:second + 3] = x[:, lo:hi] + t * (x[:, second:second + 3] - x[:, lo:hi])
            limit = x.clone()
            if name == "SO(2)":
                limit[:, lo:hi] = 0
            else:
                limit[:, adaptive.frame.vector_offsets[1]:adaptive.frame.vector_offsets[1] + 3] = x[:, lo:hi]
            with torch.no_grad():
                beta = adaptive.frame(xt).confidence.item()
                dist = ((adaptive(xt) - adaptive(limit)).norm() / adaptive(limit).norm()).item()
            rows.append({"group": name, "t": t, "confidence": beta, "adaptive": relative_error(adaptive, xt, mats),
                             "uniform": relative_error(uniform, xt, mats), "to_limit": dist})
    return rows


# ------------------------------------------------------------------------------------------ speed, memory
def saved_bytes(fn) -> int:
    """Bytes of the distinct storages autograd saves for the backward pass of ``fn()``."""
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    out.square().sum().backward()
    return sum(seen.values())


def _smallest(rows: list[dict], group: str, impl: str, sampling: str, target: float) -> dict | None:
    """The sweep row with the fewest samples whose error is at most ``target``."""
    ok = [r for r in rows if r["group"] == group and r["impl"] == impl and r["sampling"] == sampling
          and r["error"] <= target]
    return min(ok, key=lambda r: r["samples"]) if ok else None


def _step(layer, x: torch.Tensor) -> None:
    xi = x.clone().requires_grad_(True)
    layer(xi).square().sum().backward()


def speed(rows: list[dict], target: float, batch: int, channels: int, repeats: int) -> list[dict]:
    results = []
    for name, band, builder, grid_type in GROUPS:
        group = group_from_name(name)
        rep = group.regular_rep(band).repeat(channels)

        uniform = _smallest(rows, name, "ours", "uniform", target)
        own = _smallest(rows, name, "escnn", f"uniform {grid_type}", target)
        layers = {"ours adaptive": FourierNonlinearity(rep, adaptive=True)}
        if uniform is not None:
            layers["ours uniform"] = FourierNonlinearity(rep, samples=uniform["samples"])
        if own is not None:
            layers[f"escnn {grid_type}"] = EscnnLayer(builder, band, channels, grid_type, own["request"])
        elif uniform is not None:  # escnn's grids never reach the target: time it on as many random samples
            layers["escnn rand"] = EscnnLayer(builder, band, channels, "rand", uniform["samples"])
        x = torch.randn(batch, rep.dim, generator=torch.Generator().manual_seed(2))

        timing = time_interleaved({k: (lambda m=m, x=x: _step(m, x)) for k, m in layers.items()}, repeats=repeats,
                                  warmup=2)
        for key, layer in layers.items():
            samples = layer.samples if isinstance(layer, EscnnLayer) else layer.sampling.shape[0]
            saved = saved_bytes(lambda layer=layer, x=x: layer(x.clone().requires_grad_(True)))
            results.append({"group": name, "layer": key, "samples": samples, "seconds": timing[key].median,
                            "saved_mib": saved / 2**20})
    return results


# ------------------------------------------------------------------------------------------ end to end
def end_to_end(budget: float, n_train: int, n_test: int) -> list[dict]:
    from torch_geometric.data import Batch
    from torch_geometric.loader import DataLoader

    from topoequi.datasets import QM9
    from topoequi.datasets.qm9 import target_index
    from topoequi.models.steerable_molecule_net import SteerableMoleculeNet

    dataset = QM9(source="sample", progress=False)
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
    train = [dataset[int(i)] for i in perm[:n_train]]
    test = [dataset[int(i)] for i in perm[n_train:n_train + n_test]]
    col = target_index("homo")
    y_train = torch.stack([d.y[0, col] for d in train])
    mean, std = y_train.mean(), y_train.std()
    o3 = group_from_name("O(3)")
    g = our_elements(o3, n_test)
    test_batch = Batch.from_data_list(test)
    moved = test_batch.clone()
    moved.pos = torch.einsum("nij,nj->ni", g[test_batch.batch], test_batch.pos.double()).float()
    results = []
    for nonlinearity in ("gate", "fourier", "fourier_uniform"):
        torch.manual_seed(0)
        model = SteerableMoleculeNet(kernel="steerable", num_layers=2, embedding_dim=16,
                                     hidden_irreps="16x0e+4x1o+2x2e", nonlinearity=nonlinearity,
                                     fourier_channels=4, readout="mean")
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
        loader_gen = torch.Generator().manual_seed(0)
        spent, seen = 0.0, 0
        while spent < budget:
            for batch in DataLoader(train, batch_size=32, shuffle=True, generator=loader_gen):
                start = time.process_time()
                lr = 2e-3 * (1 + math.cos(math.pi * min(spent / budget, 1.0))) / 2
                for p in opt.param_groups:
                    p["lr"] = lr
                loss = (model(batch) - (batch.y[:, col] - mean) / std).abs().mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                spent += time.process_time() - start
                seen += batch.num_graphs
                if spent >= budget:
                    break
        model.eval()
        with torch.no_grad():
            pred = model(test_batch) * std + mean
            pred_moved = model(moved) * std + mean
            change, degenerate = _invariance64(model, test_batch, g)
        truth = test_batch.y[:, col]
        results.append({"nonlinearity": nonlinearity, "molecules_seen": seen,
                        "mae": (pred - truth).abs().mean().item() * 1000,
                        "mae_moved": (pred_moved - truth).abs().mean().item() * 1000,
                        "change": change.max().item() * std.item() * 1000,
                        "changed": (change * std > 1e-6).double().mean().item(),
                        "degenerate": degenerate, "samples": _samples_of(model)})
    return results


def _invariance64(model, batch, g: torch.Tensor) -> tuple[torch.Tensor, tuple[float, float] | None]:
    """In float64: ``|f(g . x) - f(x)|`` per molecule (standardized units) and, for Fourier models, the
    fraction of hidden features whose frame is not fully trusted (confidence < 1) and of molecules with one."""
    import copy

    model = copy.deepcopy(model).double()
    acts = [m for m in model.modules() if isinstance(m, FourierNonlinearity) and m.frame is not None]
    low = []
    hooks = [a.register_forward_hook(lambda m, i, o: low.append(m.frame.proper(
        i[0].reshape(i[0].shape[0], m.channels, -1))[2] < 1)) for a in acts]
    a, b = batch.clone(), batch.clone()
    a.pos = batch.pos.double()
    b.pos = torch.einsum("nij,nj->ni", g[batch.batch], a.pos)
    base = model(a)
    for hook in hooks:
        hook.remove()
    change = (model(b) - base).abs()
    if not low:
        return change, None
    per_atom = torch.stack([m.any(-1) for m in low]).any(0)
    per_molecule = torch.zeros(batch.num_graphs, dtype=torch.float64).index_add_(0, batch.batch, per_atom.double()) > 0
    features = torch.cat([m.flatten() for m in low]).double().mean().item()
    return change, (features, per_molecule.double().mean().item())


def _samples_of(model) -> int | None:
    acts = [m for m in model.modules() if isinstance(m, FourierNonlinearity)]
    return acts[0].sampling.shape[0] if acts else None


# ----------------------------------------------------------------------------------------------- report
def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
    styles = {"ours uniform": ("C0", "o-"), "ours adaptive": ("C3", "s-"), "escnn": ("C2", "^--")}
    for ax, (name, band, _, grid_type) in zip(axes, GROUPS):
        sub = [r for r in rows if r["group"] == name]
        dim = sub[0]["dim"]
        for label, (color, fmt) in styles.items():
            pts = sorted((r["samples"], max(r["error"], 1e-17)) for r in sub if _series(r) == label)
            if pts:
                ax.plot(*zip(*pts), fmt, color=color, label=label if label != "escnn" else f"escnn ({grid_type})",
                        markersize=4)
        ax.axvline(dim, color="gray", lw=0.8, ls=":")
        ax.axhline(1e-3, color="gray", lw=0.5)
        ax.axhline(1e-6, color="gray", lw=0.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name}, band-limit {band} (N_min = {dim})")
        ax.set_xlabel("samples N")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("relative equivariance error")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _series(row: dict) -> str:
    if row["impl"] == "escnn":
        return "escnn"
    return "ours adaptive" if row["sampling"].startswith("adaptive") else "ours uniform"


def report_errors(args) -> list[dict]:
    rows = error_sweep(batch=256)
    print("\n## 1. relative equivariance error vs samples (ELU, float64)")
    print(f"{'group':6} {'impl':6} {'sampling':20} {'N':>6} {'N/N_min':>8} {'error':>10}")
    for r in rows:
        print(f"{r['group']:6} {r['impl']:6} {r['sampling']:20} {r['samples']:6d} {r['samples'] / r['dim']:8.2f} "
              f"{r['error']:10.2e}")
    print("\nsummary: adaptive at N_min vs the fewest uniform samples reaching 1e-3 / 1e-6")
    for name, *_ in GROUPS:
        sub = [r for r in rows if r["group"] == name]
        dim = sub[0]["dim"]
        ad = next(r["error"] for r in sub if r["sampling"] == "adaptive design")
        line = f"{name:6} N_min={dim:4d} adaptive error {ad:.1e};"
        for impl, tag in (("ours", "uniform"), ("escnn", "escnn")):
            for level in (1e-3, 1e-6):
                ok = [r["samples"] for r in sub if r["impl"] == impl and not r["sampling"].startswith("adaptive")
                      and r["error"] <= level]
                line += f" {tag}<={level:.0e}: " + (f"N={min(ok)} ({min(ok) / dim:.1f}x)" if ok else "not reached")
        print(line)
    if not args.no_plot:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")

    print("\n## 2. degradation as the frame becomes ill-defined (N_min samples)")
    print(f"{'group':6} {'t':>8} {'confidence':>10} {'adaptive':>10} {'uniform':>10} {'|Phi-Phi_lim|':>13}")
    for r in degradation():
        print(f"{r['group']:6} {r['t']:8.0e} {r['confidence']:10.4f} {r['adaptive']:10.2e} {r['uniform']:10.2e} "
              f"{r['to_limit']:13.2e}")

    return rows


def report_speed(args, rows: list[dict]) -> None:
    for target in args.targets:
        print(f"\n## 3. forward+backward at equal error (<= {target:.0e}), float32, batch {args.batch} x "
              f"{args.channels} channels, {args.threads} thread(s), median of {args.repeats} interleaved")
        print("(escnn rand: its own grids stay above the target in the sweep; timed on as many random samples "
              "as our uniform grid needs, a lower bound of its cost; no escnn row: no uniform grid of the sweep "
              "reaches the target)")
        print(f"{'group':6} {'layer':16} {'N':>6} {'ms':>9} {'saved MiB':>10} {'escnn/ours time':>16}")
        res = speed(rows, target, args.batch, args.channels, args.repeats)
        for r in res:
            ref = [s for s in res if s["group"] == r["group"] and s["layer"].startswith("escnn")]
            ratio = f"{ref[0]['seconds'] / r['seconds']:15.2f}x" if ref else "             n/a"
            print(f"{r['group']:6} {r['layer']:16} {r['samples']:6d} {r['seconds'] * 1e3:9.2f} "
                  f"{r['saved_mib']:10.2f} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=float, nargs="+", default=[1e-3, 1e-6],
                        help="equal-error levels of the speed comparison")
    parser.add_argument("--batch", type=int, default=1024, help="features per timed call")
    parser.add_argument("--channels", type=int, default=16, help="copies of the regular representation")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--budget", type=float, default=60.0, help="CPU seconds of training per QM9 model")
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "fourier_error_vs_samples.png"))
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--parts", nargs="+", default=["errors", "speed", "qm9"], choices=["errors", "speed", "qm9"],
                        help="sections to run (speed needs errors)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if "errors" in args.parts:
        rows = report_errors(args)
    if "speed" in args.parts:
        report_speed(args, rows if "errors" in args.parts else error_sweep(batch=256))
    if "qm9" in args.parts and args.budget > 0:
        print(f"\n## 4. QM9 sample, HOMO, {args.train} train / {args.test} test molecules, {args.budget:.0f} CPU-s "
              f"per model (steerable kernel, 2 blocks)")
        print("(change: |f(g . x) - f(x)| in float64 over the test molecules; changed: share of molecules whose "
              "prediction moves by more than 1e-6 eV; frames < 1: share of hidden features / molecules with a frame "
              "not fully trusted)")
        print(f"{'nonlinearity':16} {'N':>4} {'seen':>7} {'MAE meV':>8} {'MAE rotated':>12} {'max change meV':>15} "
              f"{'changed':>8} {'frames < 1':>16}")
        for r in end_to_end(args.budget, args.train, args.test):
            n = "-" if r["samples"] is None else str(r["samples"])
            deg = "-" if r["degenerate"] is None else f"{r['degenerate'][0]:.2%} / {r['degenerate'][1]:.1%}"
            print(f"{r['nonlinearity']:16} {n:>4} {r['molecules_seen']:7d} {r['mae']:8.1f} {r['mae_moved']:12.1f} "
                  f"{r['change']:15.3e} {r['changed']:8.1%} {deg:>16}")


if __name__ == "__main__":
    main()
