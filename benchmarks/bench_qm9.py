"""QM9 models side by side: HOMO MAE after the same CPU-time budget, and molecules per CPU-second.

Every model trains on the embedded 5,000-molecule sample (standard split,
seed 0: 4,203 / 382 / 415) with the objective and optimizer of
``topoequi train qm9``: L1 on the standardized target, AdamW (``--lr``,
default 5e-4; no weight decay), gradient norm clipped at 10, batch 32, the
same data order. To give each model its own learning rate or size, run one
process per model and merge their ``--json`` files with ``--from``.
The cosine learning-rate schedule of the trainer runs over the CPU budget
instead of epochs: ``lr = lr0 (1 + cos(pi t / budget)) / 2`` with ``t`` the
CPU time spent. Training stops once its steps have used ``--budget`` seconds
of process CPU time (model construction, data collation and evaluation are
not counted); the validation MAE is taken at ``--points`` moments of the
budget and the final weights give the validation and test MAE in meV.
Throughput is molecules seen per CPU-second of training steps (and per
wall-second of the same steps). CPU time rather than wall time is the budget
because the machine is shared; one thread by default, so CPU time is compute.

    python benchmarks/bench_qm9.py                       # ~2.5 min: 30 CPU-s per model
    python benchmarks/bench_qm9.py --budget 600 --json a.json --models implicit schnet
    python benchmarks/bench_qm9.py --models steerable --hp max_frequency=1 --lr 2e-3 --json b.json
    python benchmarks/bench_qm9.py --plot benchmarks/qm9_mae_vs_cpu.png --from a.json b.json
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader


def mae(model, loader, metrics_fn) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            total += float(metrics_fn(model(batch), batch)["mae"].sum())
            count += batch.num_graphs
    model.train()
    return total / count


def run_model(name: str, hparams: dict, args, data) -> dict:
    """Train one model for ``args.budget`` CPU-seconds; its MAE curve, final MAEs and throughput."""
    from topoequi.train import qm9
    from topoequi.train.checkpoint import seed_everything

    train_set, valid_set, test_set, stats = data
    loss_fn, metrics_fn = qm9.objectives(stats)
    valid_loader = DataLoader(valid_set, batch_size=64)
    seed_everything(args.seed)
    model = qm9.MODELS[name](hparams, stats)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(args.seed)
    marks = [args.budget * (k + 1) / args.points for k in range(args.points)]
    curve, spent, wall, seen, steps = [], 0.0, 0.0, 0, 0
    while spent < args.budget:
        for batch in DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator):
            c0, w0 = time.process_time(), time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.5 * (1.0 + math.cos(math.pi * min(spent / args.budget, 1.0)))
            optimizer.zero_grad()
            loss_fn(model(batch), batch).mean().backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            spent += time.process_time() - c0
            wall += time.perf_counter() - w0
            seen += batch.num_graphs
            steps += 1
            while marks and spent >= marks[0]:
                curve.append((spent, mae(model, valid_loader, metrics_fn)))
                marks.pop(0)
            if spent >= args.budget:
                break
    test = mae(model, DataLoader(test_set, batch_size=64), metrics_fn)
    fit = mae(model, DataLoader(train_set[:len(test_set)], batch_size=64), metrics_fn)  # overfitting gauge
    row = {"model": name, "hparams": hparams, "lr": args.lr, "seed": args.seed,
           "parameters": sum(p.numel() for p in model.parameters()),
           "cpu_s": spent, "wall_s": wall, "steps": steps, "seen": seen, "epochs": seen / len(train_set),
           "per_cpu_s": seen / spent, "per_wall_s": seen / wall, "valid_mae": curve[-1][1],
           "test_mae": test, "train_mae": fit, "curve": curve}
    print(f"{name}: {spent:.0f} CPU-s, {wall:.0f} s wall, valid {row['valid_mae']:.1f} meV, "
          f"test {test:.1f} meV, train {fit:.1f} meV", flush=True)
    return row


def label(row: dict) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in row["hparams"].items())
    return f"{row['model']} ({extra})" if extra else row["model"]


def print_table(rows: list[dict], header: str) -> None:
    print(f"\n{header}")
    print("| model | lr | parameters | molecules / CPU-s | molecules / s (wall) | epochs "
          "| valid MAE (meV) | test MAE (meV) | train MAE (meV) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {label(r)} | {r.get('lr', '')} | {r['parameters']:,} | {r['per_cpu_s']:.0f} | {r['per_wall_s']:.0f} "
              f"| {r['epochs']:.1f} | {r['valid_mae']:.1f} | {r['test_mae']:.1f} "
              f"| {r.get('train_mae', float('nan')):.1f} |")


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5.5))
    for r in rows:
        t, m = zip(*r["curve"])
        lr = f", lr {r['lr']:g}" if "lr" in r else ""
        ax.plot([x / 60 for x in t], m, marker="o", ms=3, label=f"{label(r)}{lr}: test {r['test_mae']:.0f} meV")
    ax.set_xlabel("training CPU time per model (minutes, 1 thread)")
    ax.set_ylabel("HOMO validation MAE (meV)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.set_title("QM9 sample (4,203 training molecules)")
    fig.legend(loc="lower center", fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.02 + 0.035 * len(rows), 1, 1))
    fig.savefig(path, dpi=120)


def main() -> None:
    from topoequi.train import qm9

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0, help="CPU seconds of training per model")
    parser.add_argument("--models", nargs="+", default=["implicit", "steerable", "schnet", "dimenet++"])
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                        help="hyper-parameter for every model in --models (as in topoequi train)")
    parser.add_argument("--target", default="homo")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialization and the data order")
    parser.add_argument("--points", type=int, default=10, help="validation points on the MAE curve")
    parser.add_argument("--root", default=None, help="dataset cache folder")
    parser.add_argument("--json", default=None, help="write the rows and curves here")
    parser.add_argument("--plot", default=None, help="write a PNG of validation MAE vs CPU time")
    parser.add_argument("--from", dest="sources", nargs="+", default=None,
                        help="with --plot: JSON files of earlier runs instead of training")
    args = parser.parse_args()
    if args.sources:
        rows = [r for path in args.sources for r in json.loads(Path(path).read_text())["rows"]]
        print_table(rows, "QM9 rows from " + ", ".join(args.sources))
        if args.plot:
            plot(rows, args.plot)
        return
    torch.set_num_threads(args.threads)
    data_args = argparse.Namespace(target=args.target, split="standard", subset=None,
                                   source="sample", root=args.root, no_progress=True)
    dataset, split, stats = qm9.load_data(data_args)
    data = (*(dataset[split[k]] for k in ("train", "valid", "test")), stats)
    hparams = qm9.parse_hparams(args.hp)
    rows = [run_model(name, hparams, args, data) for name in args.models]
    print_table(rows, f"QM9 {args.target} on the embedded sample ({len(split['train'])} / "
                      f"{len(split['valid'])} / {len(split['test'])}), {args.budget:.0f} CPU-s of "
                      f"training per model, batch {args.batch_size}, {args.threads} thread(s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows}, f, indent=1)
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
