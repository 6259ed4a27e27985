"""QM9 models side by side: HOMO MAE after the same CPU-time budget, and molecules/s.

Every model trains on the embedded 5,000-molecule sample (standard split,
4,203 / 382 / 415) with the objective of ``topoequi train qm9`` (L1 on the
standardized target, AdamW, lr 5e-4, batch 32, same data order) until its
training steps have used ``--budget`` seconds of process CPU time (both
threads counted; evaluation and model construction excluded), then reports
the MAE of the final weights on the validation and test splits in meV.
Throughput is the median of timed training steps (forward + backward +
optimizer) after warm-up, in molecules per CPU-second and per wall-second.
CPU time rather than wall time is the budget because the machine is shared.

    python benchmarks/bench_qm9.py                 # ~2 min: 30 CPU-s per model
    python benchmarks/bench_qm9.py --budget 300    # the figures in BENCHMARKS.md
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch_geometric.loader import DataLoader


def training_step(model, optimizer, loss_fn, batch) -> None:
    optimizer.zero_grad()
    loss_fn(model(batch), batch).mean().backward()
    optimizer.step()


def mae(model, loader, metrics_fn) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            total += float(metrics_fn(model(batch), batch)["mae"].sum())
            count += batch.num_graphs
    model.train()
    return total / count


def main() -> None:
    from topoequi.train import qm9
    from topoequi.train.checkpoint import seed_everything

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0, help="CPU seconds of training per model")
    parser.add_argument("--models", nargs="+", default=["schnet", "dimenet++"])
    parser.add_argument("--target", default="homo")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7, help="timed steps for molecules/s")
    parser.add_argument("--root", default=None, help="dataset cache folder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data_args = argparse.Namespace(target=args.target, split="standard", subset=None,
                                   source="sample", root=args.root, no_progress=True)
    dataset, split, stats = qm9.load_data(data_args)
    train_set, valid_set, test_set = (dataset[split[k]] for k in ("train", "valid", "test"))
    loss_fn, metrics_fn = qm9.objectives(stats)
    rows = []
    for name in args.models:
        seed_everything(0)
        model = qm9.MODELS[name]({}, stats)
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
        # throughput: warm-up, then the median of timed steps on fixed batches
        timing_batches = list(DataLoader(train_set[: args.batch_size * (args.repeats + 2)],
                                         batch_size=args.batch_size))
        cpu, wall = [], []
        for i, batch in enumerate(timing_batches):
            c0, w0 = time.process_time(), time.perf_counter()
            training_step(model, optimizer, loss_fn, batch)
            if i >= 2:
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
        per_cpu_s = args.batch_size / statistics.median(cpu)
        per_wall_s = args.batch_size / statistics.median(wall)
        # equal CPU budget, from fresh weights and the same data order
        seed_everything(0)
        model = qm9.MODELS[name]({}, stats)
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
        generator = torch.Generator().manual_seed(0)
        spent, seen, epochs = 0.0, 0, 0
        wall0 = time.perf_counter()
        while spent < args.budget:
            epochs += 1
            for batch in DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                    generator=generator):
                c0 = time.process_time()
                training_step(model, optimizer, loss_fn, batch)
                spent += time.process_time() - c0
                seen += batch.num_graphs
                if spent >= args.budget:
                    break
        train_wall = time.perf_counter() - wall0
        valid = mae(model, DataLoader(valid_set, batch_size=64), metrics_fn)
        test = mae(model, DataLoader(test_set, batch_size=64), metrics_fn)
        rows.append((name, sum(p.numel() for p in model.parameters()), per_cpu_s, per_wall_s,
                     seen, seen / len(train_set), train_wall, valid, test))
        print(f"{name}: done ({spent:.0f} CPU-s, {train_wall:.0f} s wall)", flush=True)

    print(f"\nQM9 {args.target} on the embedded sample, {args.budget:.0f} CPU-s of training per "
          f"model, batch {args.batch_size}, {args.threads} threads")
    print("| model | parameters | molecules / CPU-s | molecules / s (wall) | molecules seen "
          "| epochs | training wall s | valid MAE (meV) | test MAE (meV) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, params, pc, pw, seen, ep, tw, valid, test in rows:
        print(f"| {name} | {params:,} | {pc:.0f} | {pw:.0f} | {seen:,} | {ep:.2f} | {tw:.0f} "
              f"| {valid:.0f} | {test:.0f} |")
    if len(rows) == 2:
        a, b = rows
        print(f"\nratios {a[0]} / {b[0]}: molecules per CPU-s {a[2] / b[2]:.2f}x, "
              f"test MAE {a[8] / b[8]:.2f}x")


if __name__ == "__main__":
    main()
