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
import time
from dataclasses import dataclass, fields
from pathlib import Path

DATASETS = ("texas", "wisconsin", "cornell", "actor", "film", "cora", "citeseer")
SHEAF_VARIANTS = ("conv", "attention", "conv-constant", "attention-constant", "persistent", "persistent-attention")
"""The local homology sheaf variants (``nsd`` is among the baselines)."""
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
    parser.add_argument("--out", required=True, help="output folder for the CSV and the summary")
    parser.add_argument("--data-root", default=None, help="writable cache root (default $TOPOEQUI_HOME/datasets)")
    parser.add_argument("--source", default=None, help="raw dataset folder (default: the datasets/ folder of "
                        "the repository, or $TOPOEQUI_DATASETS)")
    from topoequi.train.options import add_engine_arguments

    add_engine_arguments(parser, resume=False)
    parser.set_defaults(threads=1)  # one thread is fastest for these small full-batch graphs


class _FromArgs:
    @classmethod
    def from_args(cls, args: argparse.Namespace):
        """The fields of this class read off the parsed command line."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class SheafModelOptions(_FromArgs):
    """Sizes and switches of the node classifiers (each flag reaches only the variants it applies to)."""

    hidden: int = 32
    stalk_width: int = 4
    layers: int = 2
    dropout: float = 0.5
    input_dropout: float = 0.0
    constant_width: int = 1
    signed_width: int = 0
    epsilon: bool = False
    residual_dropout: bool = True
    augmented: bool = False


@dataclass(frozen=True)
class SplitSchedule(_FromArgs):
    """How one split is trained: Adam, ``epochs`` at most, ``patience`` epochs without a better checkpoint."""

    lr: float = 0.01
    weight_decay: float = 5e-3
    epochs: int = 300
    patience: int = 100
    checkpoint_by: str = "accuracy"


def build_model(name: str, in_channels: int, num_classes: int, options: SheafModelOptions):
    """A model whose ``forward`` takes the complex; ``name`` is a sheaf variant or a baseline."""
    from torch_geometric.nn.models import GAT, GCN

    from topoequi.models.batch_inputs import BatchInputs
    from topoequi.models.sheaf_node_classifier import VARIANTS, SheafNodeClassifier, SheafVariant

    o = options
    variant = SheafVariant.parse(name) if name in VARIANTS else None
    if name == "gcn":
        net = GCN(in_channels, 64, num_layers=2, out_channels=num_classes, dropout=o.dropout)
    elif name == "gat":
        net = GAT(in_channels, 8, num_layers=2, out_channels=num_classes, heads=8, dropout=0.6)
    else:
        return SheafNodeClassifier(in_channels, num_classes, hidden_channels=o.hidden,
                                   stalk_width=o.stalk_width, num_layers=o.layers,
                                   variant=name, dropout=o.dropout, input_dropout=o.input_dropout,
                                   constant_width=o.constant_width, epsilon=o.epsilon,
                                   residual_dropout=o.residual_dropout,
                                   signed_width=o.signed_width if variant.constant else 0,
                                   augmented=o.augmented and variant.layer != "attention")

    return BatchInputs(net, ("x", "edge_index"))


def train_split(model, data, split: int, schedule: SplitSchedule, device: str = "cpu", progress=None) -> dict:
    """Adam on the training nodes of one split, through :class:`~topoequi.train.engine.Trainer`; returns the
    accuracies and the validation loss at the checkpoint epoch (highest validation accuracy, or lowest
    validation loss if ``schedule.checkpoint_by`` is ``"loss"``; ties keep the earlier epoch)."""
    import torch
    import torch.nn.functional as F

    from topoequi.train.engine import TrainConfig, Trainer

    train, val, test = (getattr(data, f"{m}_mask")[:, split].bool() for m in ("train", "val", "test"))
    by_loss = schedule.checkpoint_by == "loss"

    def adam(model, config):
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay), None

    def validate(trainer: Trainer) -> dict:
        model.eval()
        with torch.no_grad():
            pred = (logits := trainer.forward(data)).argmax(-1)
        row = {"val_acc": (pred[val] == data.y[val]).float().mean().item(),
               "val_loss": F.cross_entropy(logits[val], data.y[val]).item(),
               "test_acc": (pred[test] == data.y[test]).float().mean().item()}
        if progress is not None:
            progress.set_postfix(loss=f"{trainer.history[-1]['train_loss'] if trainer.history else 0:.3f}",
                                 val=f"{row['val_acc']:.3f}", refresh=False)
        return row

    config = TrainConfig(epochs=schedule.epochs, batch_size=1, lr=schedule.lr, weight_decay=schedule.weight_decay,
                         grad_clip=None, monitor="val_loss" if by_loss else "val_acc",
                         mode="min" if by_loss else "max", patience=schedule.patience, progress=False,
                         echo=False, device=device)
    trainer = Trainer(model, None, None, lambda out, d: F.cross_entropy(out[train], d.y[train]), None, config,
                      out_dir=None, configure_optimizers=adam, train_batches=lambda t, epoch: (data,),
                      validate=validate)
    start = time.perf_counter()
    trainer.fit()
    if trainer.best_epoch == 0:
        raise FloatingPointError(f"split {split}: no finite validation {config.monitor} in {trainer.epoch} epochs")
    best = trainer.best_row
    return {"val_acc": best["val_acc"], "val_loss": best["val_loss"], "test_acc": best["test_acc"],
            "epoch": trainer.best_epoch - 1, "seconds": time.perf_counter() - start, "epochs_run": trainer.epoch}


def check_args(args: argparse.Namespace) -> list[str]:
    """Check every flag before any data is loaded; return the models to train."""
    from topoequi.train.options import check_engine_arguments

    check_engine_arguments(args)
    if not 1 <= args.splits <= 10:
        raise ValueError(f"--splits must be between 1 and 10, got {args.splits}")
    for name in ("epochs", "patience", "layers", "hidden", "stalk_width"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
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
    return list(dict.fromkeys(variants + baselines))


def load_complex(args: argparse.Namespace):
    """The graph with its clique complex and local homology sheaf; the seconds each took."""
    from topoequi.datasets.node_classification import load_node_classification
    from topoequi.transforms import AddLocalHomologySheaf, CliqueComplex

    raw = load_node_classification(args.dataset, args.data_root, args.source, args.normalize_features)
    t0 = time.perf_counter()
    data = CliqueComplex(max_dim=args.clique_dim)(raw)
    t1 = time.perf_counter()
    data = AddLocalHomologySheaf(stalk_width=args.stalk_width, weight="features")(data)
    t2 = time.perf_counter()
    dims = data.vertex_dims.sum(0).tolist()
    print(f"{args.dataset}: {data.num_nodes} nodes, {data.edges.size(0)} edges, "
          f"{data.triangles.size(0)} triangles; complex {t1 - t0:.2f} s, sheaf {t2 - t1:.2f} s; "
          f"sum of vertex stalk dims H0/H1/H2 = {dims}; "
          f"vertices with a zero stalk: {int((data.vertex_dims.sum(1) == 0).sum())}")
    return data, {"complex_seconds": t1 - t0, "sheaf_seconds": t2 - t1}


def train_all(models: list[str], data, args: argparse.Namespace) -> list[dict]:
    """Every model on every split, seeded by ``seed + split``: one row each."""
    from topoequi.progress import progress_bar
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.device import resolve_device

    options, schedule = SheafModelOptions.from_args(args), SplitSchedule.from_args(args)
    data = data.to(resolve_device(args.device))
    num_classes = int(data.y.max()) + 1
    rows = []
    bar = progress_bar(None, not args.no_progress, total=len(models) * args.splits, desc=f"{args.dataset}",
                       unit="run")
    for name in models:
        for split in range(args.splits):
            seed_everything(args.seed + split)
            model = build_model(name, data.num_features, num_classes, options)
            bar.set_description(f"{args.dataset} {name} split {split}")
            res = train_split(model, data, split, schedule, args.device, bar)
            rows.append({"model": name, "split": split, **res})
            bar.update(1)
            if bar.disable:
                print(f"{name} split {split}: test {100 * res['test_acc']:.2f} (val {100 * res['val_acc']:.2f}) "
                      f"at epoch {res['epoch'] + 1} of {res['epochs_run']}, {res['seconds']:.1f} s", flush=True)
    bar.close()
    return rows


def summarize(models: list[str], rows: list[dict], splits: int) -> tuple[dict, list[str]]:
    """Mean and standard deviation over the splits per model, as a dict and as Markdown lines."""
    import statistics

    table, md = {}, [f"| model | test acc (%) mean +- std over {splits} splits | val acc (%) | s / split |",
                     "|---|---|---|---|"]
    for name in models:
        accs = [100 * r["test_acc"] for r in rows if r["model"] == name]
        vals = [100 * r["val_acc"] for r in rows if r["model"] == name]
        secs = [r["seconds"] for r in rows if r["model"] == name]
        std = statistics.stdev(accs) if len(accs) > 1 else 0.0
        table[name] = {"test_mean": statistics.mean(accs), "test_std": std, "val_mean": statistics.mean(vals),
                       "seconds_per_split": statistics.mean(secs), "test": accs}
        md.append(f"| {name} | {statistics.mean(accs):.2f} +- {std:.2f} | {statistics.mean(vals):.2f} | "
                  f"{statistics.mean(secs):.1f} |")
    return table, md


def run(args: argparse.Namespace) -> int:
    from topoequi.files import RunFolder, atomic_write, write_json
    from topoequi.train.logger import write_csv

    models = check_args(args)
    out = Path(args.out)
    with RunFolder(out, overwrite=args.overwrite, marker="per_split.csv"):
        data, seconds = load_complex(args)
        rows = train_all(models, data, args)
        write_csv(out / "per_split.csv", [
            {"model": r["model"], "split": r["split"], "val_acc": f"{r['val_acc']:.6f}",
             "val_loss": f"{r['val_loss']:.6f}", "test_acc": f"{r['test_acc']:.6f}", "best_epoch": r["epoch"],
             "epochs_run": r["epochs_run"], "seconds": f"{r['seconds']:.3f}"} for r in rows])
        table, md = summarize(models, rows, args.splits)
        config = {k: v for k, v in vars(args).items() if k != "func"} | {"out": str(out)}
        write_json(out / "summary.json", {"dataset": args.dataset, "splits": args.splits, "config": config,
                                          **seconds, "models": table})
        atomic_write(out / "summary.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return 0
