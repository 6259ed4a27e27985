"""The Fourier-domain PAC-Bayes bound against N: C_N and D_N CNNs on rotated MNIST.

For N = 1, 2, 4, 8, 16 and the groups C_N and D_N, a bias-free ReLU steerable CNN
(:func:`topoequi.theory.networks.homogeneous_cnn`: regular fields, three 5x5 convolutions, 2x2 max
pooling, group pooling, a global spatial maximum, a linear classifier) with about ``--params``
parameters (fields chosen by :func:`~topoequi.theory.networks.matched_channels`) is trained with Adam
(cosine-decayed learning rate) on ``--train`` digits of the embedded rotated MNIST (2x2-averaged to
14x14, central 12x12 crop), ``--seeds`` seeds. With ``--fields``, one group (``--families C --ns 8``) and several field
choices instead (``;``-separated lists of field kinds of :func:`~topoequi.theory.networks.field_rep`,
e.g. ``regular;quotient2;regular,quotient2,trivial``), parameter-matched as well. Reported: train and test error
(1,000 test digits), the generalization gap, the equivariant bound and the NBS18 bound at margin
gamma = the ``--quantile`` quantile of the training margins (delta = 0.05), the terms of both, and
the seconds the bound takes. Writes ``pac_bayes.json`` (every run and term) and
``pac_bayes_vs_n.png`` next to this script.

    python benchmarks/bench_pac_bayes.py --threads 1
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import matplotlib
import torch
import torch.nn.functional as F
from tqdm import tqdm

from topoequi.datasets.rotated_mnist import RotatedMNIST
from topoequi.theory import margins, pac_bayes_bounds
from topoequi.theory.networks import homogeneous_cnn, matched_channels, num_parameters

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent


def load(split: str, limit: int, downsample: int = 2, crop: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits averaged ``downsample``-fold, then the central ``crop x crop`` pixels: a size that two 2x2
    poolings divide exactly, so the networks are exactly invariant to the quarter turns of the grid."""
    data = RotatedMNIST(split, seed=0, limit=limit)
    images = torch.cat([d.image for d in data])
    images = F.avg_pool2d(images, downsample) if downsample > 1 else images
    a = (images.shape[-1] - crop) // 2
    return images[..., a:a + crop, a:a + crop], torch.cat([d.y for d in data])


def reset(model: torch.nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    for module in model.modules():
        if module is not model and hasattr(module, "reset_parameters"):
            module.reset_parameters()


def train(model, x, y, epochs: int, lr: float, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr)
    batches = torch.randperm(len(y), generator=gen).split(64)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * len(batches))
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=gen).split(64):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()


def error(model, x, y) -> float:
    return float((margins(model, x, y) <= 0).double().mean())


def run_one(model, group: str, seed: int, data: dict, args) -> dict:
    reset(model, seed)
    start = time.perf_counter()
    train(model, *data["train"], args.epochs, args.lr, seed)
    train_seconds = time.perf_counter() - start
    train_margins = margins(model, *data["train"])
    gamma = float(torch.quantile(train_margins, args.quantile))
    if gamma <= 0:
        gamma = float(train_margins[train_margins > 0].min())
    start = time.perf_counter()
    equivariant, nbs18 = pac_bayes_bounds(model, *data["train"], gamma=gamma)
    seconds = time.perf_counter() - start
    train_error, test_error = error(model, *data["train"]), error(model, *data["test"])
    return {"group": group, "seed": seed, "parameters": num_parameters(model), "train_error": train_error,
            "test_error": test_error, "gap": test_error - train_error, "gamma": gamma, "bound_seconds": seconds,
            "train_seconds": train_seconds,
            "equivariant": equivariant.terms(), "nbs18": nbs18.terms()}


def summarize(runs: list[dict], key) -> tuple[float, float]:
    values = [key(r) for r in runs]
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def table(runs: list[dict]) -> str:
    header = ("| network | params | fields | train err % | test err % | gap % | gamma | log10 eq. bound | "
              "log10 NBS18 | eq. < NBS18 | eta (eq / NBS18) | bound s |")
    lines = [header, "|" + "---|" * 12]
    for label in dict.fromkeys(r["label"] for r in runs):
        rs = [r for r in runs if r["label"] == label]
        cells = [f"{label} ({len(rs)})", str(rs[0]["parameters"]), ",".join(map(str, rs[0]["fields"]))]
        for key, scale in (("train_error", 100), ("test_error", 100), ("gap", 100), ("gamma", 1)):
            m, s = summarize(rs, lambda r, k=key, c=scale: r[k] * c)
            cells.append(f"{m:.2f} ± {s:.2f}" if key != "gamma" else f"{m:.3g}")
        for kind in ("equivariant", "nbs18"):
            m, s = summarize(rs, lambda r, k=kind: math.log10(r[k]["bound"]))
            cells.append(f"{m:.2f} ± {s:.2f}")
        cells.append(f"{sum(r['equivariant']['bound'] < r['nbs18']['bound'] for r in rs)}/{len(rs)}")
        cells.append(f"{rs[0]['equivariant']['eta']} / {rs[0]['nbs18']['eta']}")
        cells.append(f"{max(r['bound_seconds'] for r in rs):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def term_table(runs: list[dict], labels: list[str], seed: int = 0) -> str:
    """Every term of both bounds for the networks ``labels`` (their run of ``seed``)."""
    picked = [next(r for r in runs if r["label"] == label and r["seed"] == seed) for label in labels
              if any(r["label"] == label and r["seed"] == seed for r in runs)]
    lines = ["| term | " + " | ".join(f"{r['label']} eq. | {r['label']} NBS18" for r in picked) + " |",
             "|---|" + "---:|" * (2 * len(picked))]
    for key in picked[0]["equivariant"] if picked else []:
        cells = [f"{r[kind][key]:.4g}" for r in picked for kind in ("equivariant", "nbs18")]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(runs: list[dict], ns: list[int], path: Path) -> None:
    panels = [("train / test error %", None), ("generalization gap %", lambda r: 100 * r["gap"]),
              ("log10 equivariant bound", lambda r: math.log10(r["equivariant"]["bound"])),
              ("log10 NBS18 bound", lambda r: math.log10(r["nbs18"]["bound"]))]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for ax, (title, key) in zip(axes, panels):
        for family, color in (("C", "tab:blue"), ("D", "tab:red")):
            curves = [(key, "-", f"{family}_N")] if key else [
                (lambda r: 100 * r["test_error"], "-", f"{family}_N test"),
                (lambda r: 100 * r["train_error"], ":", f"{family}_N train")]
            for k, style, name in curves:
                present = [n for n in ns if any(r["label"] == f"{family}{n}" for r in runs)]
                stats = [summarize([r for r in runs if r["label"] == f"{family}{n}"], k) for n in present]
                ax.errorbar(present, [m for m, _ in stats], [s for _, s in stats], color=color, marker="o",
                            capsize=3, linestyle=style, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.set_xlabel("N")
        ax.set_title(title)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def configs(args) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(label, group, field kinds)`` of every network to train."""
    groups = [f"{f}{n}" for f in args.families.split(",") for n in args.ns.split(",")]
    if not args.fields:
        return [(g, g, ("regular",)) for g in groups]
    kinds = [tuple(k.split(",")) for k in args.fields.split(";")]
    return [(f"{g} {'+'.join(k)}", g, k) for g in groups for k in kinds]


def report(paths: list[str], ns: list[int]) -> None:
    """Tables (and the plot of the N sweep) from result files."""
    runs = [r for path in paths for r in json.loads(Path(path).read_text())["runs"]]
    print(table(runs))
    print(term_table(runs, sorted({r["label"] for r in runs if r["label"] in ("C8", "D8")} or
                                  {runs[0]["label"]})))
    if any(r["label"] == f"D{n}" for r in runs for n in ns) and any(r["label"] == f"C{n}" for r in runs for n in ns):
        plot(runs, ns, HERE / "pac_bayes_vs_n.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ns", default="1,2,4,8,16")
    parser.add_argument("--families", default="C,D")
    parser.add_argument("--fields", default="", help="';'-separated field choices, e.g. regular;quotient2")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", type=int, default=15000)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--downsample", type=int, default=2)
    parser.add_argument("--pooling", default="max", choices=("average", "max"))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--quantile", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=str(HERE / "pac_bayes.json"))
    parser.add_argument("--report", nargs="+", default=None, help="only print tables / plot from result files")
    args = parser.parse_args(argv)
    ns = [int(n) for n in args.ns.split(",")]
    if args.report:
        report(args.report, ns)
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    data = {"train": load("train", args.train, args.downsample), "test": load("test", args.test, args.downsample)}
    runs = []
    for label, group, kinds in tqdm(configs(args), desc="networks"):
        fields = matched_channels(group, args.params, fields=kinds)
        model = homogeneous_cnn(group, fields, pooling=args.pooling, fields=kinds)
        for seed in range(args.seeds):
            runs.append({**run_one(model, group, seed, data, args), "fields": fields, "kinds": kinds, "label": label})
            r = runs[-1]
            print(f"{label} seed {seed}: params {r['parameters']} train err {100 * r['train_error']:.2f}% test err "
                  f"{100 * r['test_error']:.2f}% eq {r['equivariant']['bound']:.3g} NBS18 {r['nbs18']['bound']:.3g} "
                  f"(train {r['train_seconds']:.0f} s, bound {r['bound_seconds']:.2f} s)", flush=True)
            Path(args.out).write_text(json.dumps({"args": vars(args), "runs": runs}, indent=1))
    report([args.out], ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
