"""Random search over the hyperparameters of the local homology sheaf classifier, on validation accuracy.

Every configuration is trained on the ten Geom-GCN splits exactly as ``topoequi train sheaf`` trains
it (same seeds, same checkpoint epoch), so the selected row is reproduced by the CLI
command printed at the end. Configurations are ranked by mean validation accuracy only; the test
accuracy is recorded beside it for the report, never used for the choice.

    python benchmarks/tune_sheaf.py --dataset texas --trials 40 --out runs/tune/texas
    python benchmarks/tune_sheaf.py --dataset citeseer --trials 8 --epochs 150 --patience 50 \\
        --grid variant=conv-constant hidden=16,32 --out runs/tune/citeseer

Writes ``trials.csv`` (one row per configuration: the configuration, mean validation and test
accuracy) to ``--out``, appending so that an interrupted search resumes where it stopped.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from topoequi.datasets.node_classification import load_node_classification
from topoequi.train.checkpoint import seed_everything
from topoequi.train.sheaf import (
    DATASETS,
    SheafModelOptions,
    SplitSchedule,
    build_model,
    train_split,
)
from topoequi.transforms import AddLocalHomologySheaf, CliqueComplex

GRID = {
    "variant": ["conv", "conv-constant", "attention"],
    "hidden": [16, 32, 64],
    "stalk_width": [2, 3, 4, 5],
    "layers": [1, 2, 3, 4],
    "dropout": [0.3, 0.5, 0.7],
    "input_dropout": [0.0, 0.3, 0.5],
    "weight_decay": [5e-4, 5e-3, 2e-2],
    "lr": [0.005, 0.01, 0.02],
    "epsilon": [False, True],
    "clique_dim": [1, 2],
    "constant_width": [1, 2],
    "signed_width": [0],
    "residual_dropout": [True],
    "normalize_features": [False],
    "augmented": [False],
    "checkpoint_by": ["accuracy"],
}
FLAGS = {"hidden": "--hidden", "stalk_width": "--stalk-width", "layers": "--layers", "dropout": "--dropout",
         "input_dropout": "--input-dropout", "weight_decay": "--weight-decay", "lr": "--lr",
         "clique_dim": "--clique-dim", "constant_width": "--constant-width", "signed_width": "--signed-width"}
IMPLIED = {"constant_width": 1, "signed_width": 0}     # CLI defaults, left out of the printed command


def parse_grid(items: list[str]) -> dict:
    """``key=v1,v2`` overrides of :data:`GRID`, values parsed like the defaults they replace."""
    grid = dict(GRID)
    for item in items:
        key, _, values = item.partition("=")
        if key not in GRID or not values:
            raise ValueError(f"--grid: expected key=v1,v2 with key in {sorted(GRID)}, got {item!r}")
        kind = type(GRID[key][0])
        grid[key] = [v.lower() == "true" if kind is bool else kind(v) for v in values.split(",")]
    return grid


def sample(grid: dict, rng: np.random.Generator) -> dict:
    """One configuration; ``constant_width`` / ``signed_width`` are fixed to 1 / 0 (unused) outside the
    -constant variants."""
    while True:
        cfg = {k: v[rng.integers(len(v))] for k, v in grid.items()}
        if not cfg["variant"].endswith("-constant"):
            cfg |= IMPLIED
        elif not 1 <= cfg["constant_width"] + cfg["signed_width"] < cfg["stalk_width"]:
            continue
        if cfg["augmented"] and "attention" in cfg["variant"]:
            continue
        return {k: v.item() if hasattr(v, "item") else v for k, v in cfg.items()}


def command(dataset: str, cfg: dict, epochs: int, patience: int) -> str:
    flags = " ".join(f"{FLAGS[k]} {cfg[k]}" for k in FLAGS if not (k in IMPLIED and cfg[k] == IMPLIED[k]))
    switches = ((" --epsilon" if cfg["epsilon"] else "") + ("" if cfg["residual_dropout"] else " --no-residual-dropout")
                + (" --normalize-features" if cfg["normalize_features"] else "")
                + (" --augmented-laplacian" if cfg["augmented"] else "")
                + (" --checkpoint-by loss" if cfg["checkpoint_by"] == "loss" else ""))
    return (f"nice topoequi train sheaf --threads 1 --dataset {dataset} --variant {cfg['variant']} --baselines '' "
            f"--epochs {epochs} --patience {patience} {flags}{switches}")


def defaults() -> dict:
    """The CLI defaults, completed by an ``--include`` entry."""
    return {"variant": "conv", "hidden": 32, "stalk_width": 4, "layers": 2, "dropout": 0.5, "input_dropout": 0.0,
            "weight_decay": 5e-3, "lr": 0.01, "epsilon": False, "clique_dim": 2, "constant_width": 1, "signed_width": 0,
            "residual_dropout": True, "normalize_features": False, "augmented": False,
            "checkpoint_by": "accuracy"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--trials", type=int, default=40, help="configurations in total (resumed ones included)")
    p.add_argument("--grid", nargs="*", default=[], help="key=v1,v2 overrides of the search space")
    p.add_argument("--include", nargs="*", default=[], help="configurations (JSON objects) tried first")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--patience", type=int, default=100)
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--seed", type=int, default=0, help="seed of the search (the training seeds are those of the CLI)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    grid = parse_grid(args.grid)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "trials.csv"
    done = [defaults() | json.loads(r["config"]) | {"val": float(r["val"]), "test": float(r["test"])}
            for r in csv.DictReader(log.open())] if log.exists() else []
    seen = [{k: v for k, v in r.items() if k not in ("val", "test")} for r in done]

    cache: dict = {}
    rng = np.random.default_rng(args.seed)
    queue = [defaults() | json.loads(c) for c in args.include]
    tries = 0
    while len(seen) < args.trials and tries < 100 * args.trials:
        tries += 1
        cfg = queue.pop(0) if queue else sample(grid, rng)
        if cfg in seen:
            continue
        seen.append(cfg)
        key = (cfg["clique_dim"], cfg["stalk_width"], cfg["normalize_features"])
        if key not in cache:
            raw = load_node_classification(args.dataset, normalize_features=cfg["normalize_features"])
            cache[key] = AddLocalHomologySheaf(stalk_width=cfg["stalk_width"], weight="features")(
                CliqueComplex(max_dim=cfg["clique_dim"])(raw))
        data = cache[key]
        ns = argparse.Namespace(**cfg, epochs=args.epochs, patience=args.patience)
        vals, tests = [], []
        for split in range(args.splits):
            seed_everything(split)
            model = build_model(cfg["variant"], data.num_features, int(data.y.max()) + 1,
                                SheafModelOptions.from_args(ns))
            res = train_split(model, data, split, SplitSchedule.from_args(ns))
            vals.append(100 * res["val_acc"])
            tests.append(100 * res["test_acc"])
        row = {"config": json.dumps(cfg, sort_keys=True), "val": f"{statistics.mean(vals):.2f}",
               "test": f"{statistics.mean(tests):.2f}", "test_std": f"{statistics.stdev(tests):.2f}"}
        new = not log.exists()
        with log.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
        done.append(cfg | {"val": float(row["val"]), "test": float(row["test"])})
        print(f"[{len(done)}] val {row['val']} test {row['test']} +- {row['test_std']}  {row['config']}", flush=True)
    best = max(done, key=lambda r: r["val"])
    cfg = {k: v for k, v in best.items() if k not in ("val", "test")}
    print(f"best validation {best['val']:.2f} (test {best['test']:.2f}): {json.dumps(cfg, sort_keys=True)}")
    print(command(args.dataset, cfg, args.epochs, args.patience))
    return 0


if __name__ == "__main__":
    sys.exit(main())
