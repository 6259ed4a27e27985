"""Point-cloud classification under rotation protocols: implicit steerable kernels, PointNet++, DGCNN.

Accuracy: every model is trained with ``topoequi train pointcloud``'s recipe
(cross-entropy, AdamW, cosine schedule, epoch chosen on validation under the
training augmentation) with and without SO(3) augmentation, for each seed,
and its best checkpoint is tested on aligned and on SO(3)-rotated test
shapes: the protocols none/none, none/SO(3), SO(3)/SO(3) (train/test).
Throughput: training steps (forward, backward, AdamW) on one batch of
``--batch-size`` shapes, the models timed round-robin in this one process
(median of ``--repeats``), shapes per CPU-second and per wall-second, and the
peak resident memory of those steps.

    python benchmarks/bench_pointcloud.py --models implicit --json a.json     # one process per model
    python benchmarks/bench_pointcloud.py --throughput --json t.json
    python benchmarks/bench_pointcloud.py --from a.json b.json c.json t.json --plot benchmarks/pointcloud_rotation.png
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import peak_rss_since_reset_mib, reset_peak_rss, time_interleaved

MODELS = ("implicit", "pointnet++", "dgcnn")
PROTOCOLS = (("none", "none"), ("none", "so3"), ("so3", "so3"))


def train_once(model: str, train_rotation: str, seed: int, args) -> dict:
    from topoequi.train import pointcloud

    parser = argparse.ArgumentParser()
    pointcloud.add_arguments(parser)
    with tempfile.TemporaryDirectory() as out:
        run = parser.parse_args(["--model", model, "--train-rotation", train_rotation, "--seed", str(seed),
                                 "--epochs", str(args.epochs), "--per-class", str(args.per_class),
                                 "--num-points", str(args.num_points), "--batch-size", str(args.batch_size),
                                 "--norm-momentum", str(args.norm_momentum), "--out", out, "--no-progress"])
        pointcloud.check_args(run)
        return pointcloud.train(run)


def accuracy_runs(args) -> list[dict]:
    rows = []
    for model in args.models:
        for train_rotation in ("none", "so3"):
            for seed in args.seeds:
                start = time.perf_counter()
                result = train_once(model, train_rotation, seed, args)
                rows.append({"model": model, "train_rotation": train_rotation, "seed": seed,
                             **{f"test_{k}": v for k, v in result["test_accuracy_by_rotation"].items()},
                             "best_epoch": result["best_epoch"], "parameters": result["parameters"],
                             "wall_seconds": time.perf_counter() - start})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def throughput(args) -> list[dict]:
    from torch_geometric.data import Batch

    from topoequi.datasets.shapes import SHAPE_CLASSES, procedural_shapes
    from topoequi.train.pointcloud import build_model

    shapes = procedural_shapes("train", args.batch_size // len(SHAPE_CLASSES) + 1, args.num_points)
    batch = Batch.from_data_list(shapes[:args.batch_size])
    steps, rows = {}, []
    for name in args.models:
        torch.manual_seed(0)
        model = build_model(name, len(SHAPE_CLASSES), "SO(3)", {})
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def step(model=model, optimizer=optimizer):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(batch), batch.y).backward()
            optimizer.step()
        reset_peak_rss()
        step()
        step()
        rows.append({"model": name, "peak_rss_mib": peak_rss_since_reset_mib(),
                     "parameters": sum(p.numel() for p in model.parameters())})
        steps[name] = step
    cpu = time_interleaved(steps, repeats=args.repeats, warmup=1, clock=time.process_time)
    wall = time_interleaved(steps, repeats=args.repeats, warmup=0)
    for row in rows:
        row["shapes_per_cpu_s"] = args.batch_size / cpu[row["model"]].median
        row["shapes_per_wall_s"] = args.batch_size / wall[row["model"]].median
    return rows


def summary(rows: list[dict]) -> dict:
    """Mean and standard deviation over seeds of each model's accuracy under each protocol."""
    out = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        for train, test in PROTOCOLS:
            values = [100 * r[f"test_{test}"] for r in rows if r["model"] == model and r["train_rotation"] == train]
            if values:
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                out[(model, f"{train}/{test}")] = (statistics.mean(values), sd, len(values))
    return out


def markdown(rows: list[dict], speed: list[dict]) -> str:
    table = summary(rows)
    lines = [("| model | none/none | none/SO(3) | SO(3)/SO(3) | drop none->SO(3) | shapes/CPU-s | shapes/wall-s "
             "| peak RSS MiB | parameters |"), "|---|---|---|---|---|---|---|---|---|"]
    speeds = {r["model"]: r for r in speed}
    for model in dict.fromkeys([r["model"] for r in rows] + list(speeds)):
        cells = [f"{table[(model, p)][0]:.1f} ± {table[(model, p)][1]:.1f}" if (model, p) in table else "—"
                 for p in ("none/none", "none/so3", "so3/so3")]
        drop = (f"{table[(model, 'none/none')][0] - table[(model, 'none/so3')][0]:.1f}"
                if (model, "none/so3") in table else "—")
        s = speeds.get(model, {})
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {drop} | {s.get('shapes_per_cpu_s', 0):.1f} | "
                     f"{s.get('shapes_per_wall_s', 0):.1f} | {s.get('peak_rss_mib') or 0:.0f} | "
                     f"{s.get('parameters', 0):,} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summary(rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i, protocol in enumerate(("none/none", "none/so3", "so3/so3")):
        values = [table.get((m, protocol), (0, 0, 0)) for m in models]
        ax.bar([j + 0.27 * (i - 1) for j in range(len(models))], [v[0] for v in values], 0.27,
               yerr=[v[1] for v in values], label=f"train/test {protocol.replace('so3', 'SO(3)')}", capsize=3)
    ax.set(xticks=range(len(models)), xticklabels=models, ylabel="test accuracy (%)", ylim=(0, 110),
           title="rotation protocols (mean ± sd over seeds)")
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--per-class", type=int, default=24)
    parser.add_argument("--num-points", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--norm-momentum", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--throughput", action="store_true", help="only time the training steps")
    parser.add_argument("--json", default=None, help="write the rows here")
    parser.add_argument("--from", dest="sources", nargs="+", default=None, help="merge these --json files instead")
    parser.add_argument("--plot", default=None, help="bar chart of the accuracies (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.sources:
        merged = [json.loads(Path(p).read_text()) for p in args.sources]
        rows = [r for m in merged for r in m.get("accuracy", [])]
        speed = [r for m in merged for r in m.get("throughput", [])]
    else:
        rows = [] if args.throughput else accuracy_runs(args)
        speed = throughput(args)
    if args.json:
        Path(args.json).write_text(json.dumps({"accuracy": rows, "throughput": speed, "config": vars(args)}, indent=1))
    print(markdown(rows, speed))
    if args.plot and rows:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
