"""Node classification with local homology sheaf networks, beside GCN, GAT and a learned-sheaf (NSD) control.

``topoequi train sheaf --dataset texas --variant conv,attention --out runs/texas``
trains the chosen sheaf variants and the baselines on the same graph, the same ten
Geom-GCN splits and the same seeds; for every split the test accuracy is read
at the checkpoint epoch: the epoch of best validation accuracy, or with
``--checkpoint-by loss`` the epoch of lowest validation cross-entropy (Neural
Sheaf Diffusion's default). Writes ``per_split.csv`` and
``summary.json`` / ``summary.md`` (mean +- std over the splits) to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

DATASETS = ("texas", "wisconsin", "cornell", "actor", "film", "cora", "citeseer")
SHEAF_VARIANTS = ("conv", "attention", "conv-constant", "attention-constant", "persistent", "persistent-attention")
BASELINES = ("gcn", "gat", "nsd")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, choices=DATASETS)
    parser.add_argument("--variant", default="conv",
                        help="comma-separated local homology sheaf variants ('' for none), of "
                             f"{','.join(SHEAF_VARIANTS)} (persistent: sheaf learned through persistence)")
    parser.add_argument("--baselines", default="gcn,gat,nsd",
                        help="comma-separated subset of gcn,gat,nsd trained in the same run ('' for none)")
    parser.add_argument("--splits", type=int, default=10, help="number of the ten splits to run (first k)")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--patience", type=int, default=100, help="stop after this many epochs without a "
                        "better checkpoint")
    parser.add_argument("--checkpoint-by", default="accuracy", choices=("accuracy", "loss"),
                        help="read the test accuracy at the epoch of highest validation accuracy or of lowest "
                             "validation loss")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--weight-decay", type=float, default=5e-3)
    parser.add_argument("--hidden", type=int, default=32, help="channels C per stalk coordinate")
    parser.add_argument("--stalk-width", type=int, default=4, help="stalk width d")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--input-dropout", type=float, default=0.0)
    parser.add_argument("--constant-width", type=int, default=1,
                        help="stalk coordinates m of the constant sheaf in the -constant variants")
    parser.add_argument("--signed-width", type=int, default=0,
                        help="stalk coordinates h of the signed (high-pass) sheaf in the -constant variants "
                             "(1 <= m + h < d)")
    parser.add_argument("--epsilon", action="store_true",
                        help="learned residual weights X <- (1 + tanh eps) X - ... in every sheaf layer")
    parser.add_argument("--no-residual-dropout", dest="residual_dropout", action="store_false",
                        help="drop out only the features entering each Laplacian term (as Neural Sheaf Diffusion "
                             "does), not the residual stream after every layer")
    parser.add_argument("--augmented-laplacian", dest="augmented", action="store_true",
                        help="normalise the sheaf Laplacian by D + I, (D + I)^-1/2 L (D + I)^-1/2, as Neural Sheaf "
                             "Diffusion does (conv variants and the nsd control)")
    parser.add_argument("--normalize-features", action="store_true",
                        help="divide each node's features by their sum (Neural Sheaf Diffusion's preprocessing)")
    parser.add_argument("--clique-dim", type=int, default=2, choices=(1, 2),
                        help="dimension of the clique complex (2: with triangles)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest for these small full-batch graphs)")
    parser.add_argument("--out", required=True, help="output folder for the CSV and the summary")
    parser.add_argument("--data-root", default=None, help="writable cache root (default $TOPOEQUI_HOME/datasets)")
    parser.add_argument("--source", default=None, help="raw dataset folder (default ../shared/datasets)")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def build_model(name: str, in_channels: int, num_classes: int, args: argparse.Namespace):
    """A model whose ``forward`` takes the complex; ``name`` is a sheaf variant or a baseline."""
    import torch
    from torch_geometric.nn.models import GAT, GCN

    from topoequi.models.sheaf_node_classifier import SheafNodeClassifier

    if name == "gcn":
        net = GCN(in_channels, 64, num_layers=2, out_channels=num_classes, dropout=args.dropout)
    elif name == "gat":
        net = GAT(in_channels, 8, num_layers=2, out_channels=num_classes, heads=8, dropout=0.6)
    else:
        return SheafNodeClassifier(in_channels, num_classes, hidden_channels=args.hidden,
                                   stalk_width=args.stalk_width, num_layers=args.layers,
                                   variant=name, dropout=args.dropout, input_dropout=args.input_dropout,
                                   constant_width=args.constant_width, epsilon=args.epsilon,
                                   residual_dropout=args.residual_dropout,
                                   signed_width=args.signed_width if name.endswith("-constant") else 0,
                                   augmented=args.augmented and "attention" not in name)

    class GraphBaseline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, data):
            return self.net(data.x, data.edge_index)

    return GraphBaseline()


def train_split(model, data, split: int, args: argparse.Namespace, progress=None) -> dict:
    """Adam on the training nodes of one split; returns the accuracies and the validation loss at the
    checkpoint epoch (highest validation accuracy, or lowest validation loss if ``args.checkpoint_by`` is
    ``"loss"``; ties keep the earlier epoch)."""
    import torch
    import torch.nn.functional as F

    train, val, test = (getattr(data, f"{m}_mask")[:, split].bool() for m in ("train", "val", "test"))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    by_loss = args.checkpoint_by == "loss"
    best = {"val_acc": -1.0, "val_loss": float("inf"), "test_acc": 0.0, "epoch": -1}
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        opt.zero_grad()
        out = model(data)
        loss = F.cross_entropy(out[train], data.y[train])
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch} (split {split})")
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(data)
        pred = logits.argmax(-1)
        val_acc = (pred[val] == data.y[val]).float().mean().item()
        val_loss = F.cross_entropy(logits[val], data.y[val]).item()
        if val_loss < best["val_loss"] if by_loss else val_acc > best["val_acc"]:
            best = {"val_acc": val_acc, "val_loss": val_loss, "epoch": epoch,
                    "test_acc": (pred[test] == data.y[test]).float().mean().item()}
        if progress is not None:
            progress.set_postfix(loss=f"{loss.item():.3f}", val=f"{val_acc:.3f}", refresh=False)
        if epoch - best["epoch"] >= args.patience:
            break
    best["seconds"] = time.perf_counter() - start
    best["epochs_run"] = epoch + 1
    return best


def run(args: argparse.Namespace) -> int:
    import statistics

    import torch
    from tqdm import tqdm

    from topoequi.datasets.node_classification import load_node_classification
    from topoequi.train.checkpoint import seed_everything
    from topoequi.transforms import CliqueComplex, LocalHomologySheaf

    torch.set_num_threads(max(1, args.threads))
    if not 1 <= args.splits <= 10:
        raise ValueError(f"--splits must be between 1 and 10, got {args.splits}")
    if args.epochs < 1:
        raise ValueError(f"--epochs must be positive, got {args.epochs}")
    variants = [v for v in args.variant.split(",") if v]
    if set(variants) - set(SHEAF_VARIANTS):
        raise ValueError(f"--variant: expected a comma-separated subset of {','.join(SHEAF_VARIANTS)}, "
                         f"got {args.variant!r}")
    baselines = [b for b in args.baselines.split(",") if b]
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"--baselines: unknown {sorted(unknown)}; choose from {', '.join(BASELINES)}")
    if not variants and not baselines:
        raise ValueError("--variant and --baselines are both empty: nothing to train")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    raw = load_node_classification(args.dataset, args.data_root, args.source, args.normalize_features)
    t0 = time.perf_counter()
    data = CliqueComplex(max_dim=args.clique_dim)(raw)
    t1 = time.perf_counter()
    data = LocalHomologySheaf(stalk_width=args.stalk_width, weight="features")(data)
    t2 = time.perf_counter()
    dims = data.vertex_dims.sum(0).tolist()
    print(f"{args.dataset}: {data.num_nodes} nodes, {data.edges.size(0)} edges, "
          f"{data.triangles.size(0)} triangles; complex {t1 - t0:.2f} s, sheaf {t2 - t1:.2f} s; "
          f"sum of vertex stalk dims H0/H1/H2 = {dims}; "
          f"vertices with a zero stalk: {int((data.vertex_dims.sum(1) == 0).sum())}")

    models = list(dict.fromkeys(variants + baselines))
    rows = []
    bar = tqdm(total=len(models) * args.splits, desc=f"{args.dataset}", unit="run")
    for name in models:
        for split in range(args.splits):
            seed_everything(args.seed + split)
            model = build_model(name, raw.num_features, int(raw.y.max()) + 1, args)
            bar.set_description(f"{args.dataset} {name} split {split}")
            res = train_split(model, data, split, args, bar)
            rows.append({"model": name, "split": split, **res})
            bar.update(1)
    bar.close()

    header = "model,split,val_acc,val_loss,test_acc,best_epoch,epochs_run,seconds\n"
    lines = [f"{r['model']},{r['split']},{r['val_acc']:.6f},{r['val_loss']:.6f},{r['test_acc']:.6f},{r['epoch']},"
             f"{r['epochs_run']},{r['seconds']:.3f}\n" for r in rows]
    _atomic_write(out / "per_split.csv", header + "".join(lines))
    summary = {"dataset": args.dataset, "splits": args.splits, "config": vars(args) | {"out": str(out)},
               "complex_seconds": t1 - t0, "sheaf_seconds": t2 - t1, "models": {}}
    md = [f"| model | test acc (%) mean +- std over {args.splits} splits | val acc (%) | s / split |",
          "|---|---|---|---|"]
    for name in models:
        accs = [100 * r["test_acc"] for r in rows if r["model"] == name]
        vals = [100 * r["val_acc"] for r in rows if r["model"] == name]
        secs = [r["seconds"] for r in rows if r["model"] == name]
        std = statistics.stdev(accs) if len(accs) > 1 else 0.0
        summary["models"][name] = {"test_mean": statistics.mean(accs), "test_std": std,
                                   "val_mean": statistics.mean(vals), "seconds_per_split": statistics.mean(secs),
                                   "test": accs}
        md.append(f"| {name} | {statistics.mean(accs):.2f} +- {std:.2f} | {statistics.mean(vals):.2f} | "
                  f"{statistics.mean(secs):.1f} |")
    _atomic_write(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    _atomic_write(out / "summary.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return 0
