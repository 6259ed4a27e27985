"""Mixed-symmetry digits: equivariant, non-equivariant and learnable-equivariance models side by side.

Every digit is moved by a random element of D4; the digit class is D4-invariant,
the handedness (mirrored or not) only C4-invariant. The three models of
:class:`~topoequi.models.relaxed_point_classifier.RelaxedPointClassifier` have
the same weights (the learnable one's likelihoods get a group lasso, a proximal
step :meth:`~topoequi.nn.GroupLikelihood.shrink_` after each optimizer step,
which chooses the subgroup each lambda is invariant under, an entropy penalty
:meth:`~topoequi.nn.GroupLikelihood.entropy`, which concentrates lambda on that
subgroup, and its kernels :class:`~topoequi.nn.IsotypicBalance`); each is trained with
:class:`~topoequi.train.engine.Trainer`
(tqdm, ``log.csv``, atomic ``last.pt`` / ``best.pt``, ``curves.png``) in
``OUT/<model>/`` (``OUT/seed<k>/<model>/`` with several ``--seeds``), then
evaluated per part on the validation split (for choosing settings) and the
test split, with the learned
likelihoods reported by :func:`~topoequi.nn.equivariance_degree.equivariance_degree`
(``OUT/<model>/lambda.png``). The summary goes to ``OUT/results.json`` and
``OUT/accuracy.png`` (mean and standard deviation over the seeds).

    topoequi train mixed-symmetry
"""
from __future__ import annotations

import argparse
import os

import torch
import torch.nn.functional as F
from torch import Tensor

from topoequi.models.relaxed_point_classifier import MODES

NUM_DIGITS = 10
SPARSITY = 0.7  # chosen on the validation split (benchmarks/BENCHMARKS.md)
CONCENTRATION = 0.3  # likewise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", default=",".join(MODES), help=f"comma-separated subset of {', '.join(MODES)}")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--likelihood-lr", type=float, default=0.05,
                        help="learning rate of the likelihoods' Fourier coefficients (no weight decay)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds of the weights and the data order")
    parser.add_argument("--heads", choices=("shared", "per-part"), default="per-part",
                        help="one last convolution and head for both parts, or one per part (own likelihood)")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the D4 moves and the split")
    parser.add_argument("--channels", type=int, default=6, help="regular copies per hidden layer")
    parser.add_argument("--layers", type=int, default=3, help="relaxed convolutions on the way to an output")
    parser.add_argument("--branch-layers", type=int, default=2,
                        help="with --heads per-part: the last convolutions that each part has on its own")
    parser.add_argument("--kl-weight", type=float, default=0.1,
                        help="weight of the KL term of the likelihoods (see --kl-prior)")
    parser.add_argument("--kl-prior", choices=("chain", "uniform"), default="chain",
                        help="KL of each likelihood to the one before it (the first to uniform), or to uniform")
    parser.add_argument("--align-weight", type=float, default=0.1,
                        help="weight of the alignment term (identity at the mode of every lambda)")
    parser.add_argument("--concentration-weight", type=float, default=CONCENTRATION,
                        help="weight of the likelihoods' entropy: pulls each lambda towards the Haar measure of "
                             "the subgroup it is invariant under (0: off)")
    parser.add_argument("--sparsity", type=float, default=SPARSITY,
                        help="group lasso on the likelihoods' Fourier coefficients: after each step, shrink every "
                             "non-trivial irrep block by this times the likelihood learning rate (0: off)")
    parser.add_argument("--no-balance", action="store_true",
                        help="learn the unconstrained kernels freely instead of through IsotypicBalance")
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--valid-size", type=int, default=300)
    parser.add_argument("--train-size", type=int, default=None, help="train on the first N of the training split")
    parser.add_argument("--subset", type=int, default=None, help="use the first N digits only (smoke runs)")
    parser.add_argument("--out", default=os.path.join("runs", "mixed-symmetry"), help="run folder")
    from topoequi.train.options import add_engine_arguments

    add_engine_arguments(parser)


def _check(args: argparse.Namespace) -> list[str]:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in models if m not in MODES]
    if not models or bad:
        raise ValueError(f"--models must be a comma-separated subset of {', '.join(MODES)}, got {args.models!r}")
    for name in ("channels", "layers"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be positive, got {getattr(args, name)}")
    for name in ("kl_weight", "align_weight", "concentration_weight", "sparsity", "likelihood_lr"):
        if not getattr(args, name) >= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    try:
        args.seed_list = [int(k) for k in args.seeds.split(",")]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    if len(set(args.seed_list)) != len(args.seed_list):
        raise ValueError(f"--seeds must be distinct, got {args.seeds!r}")
    if not 1 <= args.branch_layers < args.layers:
        raise ValueError(f"--branch-layers must be in [1, --layers), got {args.branch_layers}")
    if args.subset is not None and args.subset < 3:
        raise ValueError(f"--subset must be at least 3, got {args.subset}")
    return models


def load_split(args: argparse.Namespace, progress: bool = False) -> dict[str, list]:
    from topoequi.datasets.digits import mixed_symmetry_digits, split_indices

    data = mixed_symmetry_digits(seed=args.data_seed, progress=progress, limit=args.subset)
    test, valid = args.test_size, args.valid_size
    if args.subset is not None:  # shrink the held-out parts with the subset
        test, valid = max(1, min(test, len(data) // 3)), max(1, min(valid, len(data) // 3))
    split = split_indices(len(data), test, valid, seed=args.data_seed)
    if args.train_size is not None:
        if not 1 <= args.train_size <= len(split["train"]):
            raise ValueError(f"--train-size must be in [1, {len(split['train'])}], got {args.train_size}")
        split["train"] = split["train"][:args.train_size]
    return {name: [data[i] for i in idx.tolist()] for name, idx in split.items()}


def objectives(model, kl_weight: float, align_weight: float, prior: str = "chain", concentration_weight: float = 0.0):
    """Per-sample loss: cross-entropy of the digit, plus that of the handedness on chiral digits, plus the
    likelihood regularizers; per-sample metrics: the digit error and any error (digit or handedness)."""

    def split_out(out: Tensor) -> tuple[Tensor, Tensor]:
        return out[:, :NUM_DIGITS], out[:, NUM_DIGITS:]

    def loss_fn(out: Tensor, batch) -> Tensor:
        digit, hand = split_out(out)
        loss = F.cross_entropy(digit, batch.y, reduction="none")
        loss = loss + F.cross_entropy(hand, batch.hand, reduction="none") * batch.chiral.to(loss.dtype)
        kl, align = model.regularizers(prior)
        loss = loss + kl_weight * kl + align_weight * align
        if concentration_weight and model.mode == "learnable":
            loss = loss + concentration_weight * sum(lam.entropy() for lam in model.likelihoods)
        return loss

    def metrics_fn(out: Tensor, batch) -> dict[str, Tensor]:
        digit, hand = split_out(out)
        digit_wrong = digit.argmax(-1) != batch.y
        hand_wrong = (hand.argmax(-1) != batch.hand) & batch.chiral
        return {"digit_error": digit_wrong.double(), "error": (digit_wrong | hand_wrong).double()}

    return loss_fn, metrics_fn


@torch.no_grad()
def part_accuracies(model, dataset: list, batch_size: int = 128) -> dict[str, float]:
    """Accuracy of the digit class (all digits) and of the handedness (chiral digits) on ``dataset``."""
    from torch_geometric.loader import DataLoader

    model.eval()
    digit_ok = hand_ok = chiral = 0
    for batch in DataLoader(dataset, batch_size=batch_size):
        out = model(batch)
        digit_ok += int((out[:, :NUM_DIGITS].argmax(-1) == batch.y).sum())
        hand_ok += int(((out[:, NUM_DIGITS:].argmax(-1) == batch.hand) & batch.chiral).sum())
        chiral += int(batch.chiral.sum())
    return {"digit_accuracy": digit_ok / len(dataset), "hand_accuracy": hand_ok / max(chiral, 1),
            "size": len(dataset), "chiral": chiral}


def train_model(mode: str, seed: int, split: dict[str, list], args: argparse.Namespace) -> dict:
    """Train one model in ``OUT[/seed<k>]/<mode>``, reload its best checkpoint, evaluate and measure it."""
    from topoequi.files import load_checkpoint
    from topoequi.models.relaxed_point_classifier import RelaxedPointClassifier
    from topoequi.symmetry import Dihedral
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.engine import Trainer, adamw_cosine
    from topoequi.train.options import engine_config

    out = os.path.join(args.out, *([f"seed{seed}"] if len(args.seed_list) > 1 else []), mode)
    identity = {"task": "mixed-symmetry", "model": mode, "seed": seed, "heads": args.heads,
                "channels": args.channels, "layers": args.layers, "branch_layers": args.branch_layers,
                "kl_weight": args.kl_weight, "kl_prior": args.kl_prior, "align_weight": args.align_weight,
                "concentration_weight": args.concentration_weight,
                "sparsity": args.sparsity, "balance": not args.no_balance, "likelihood_lr": args.likelihood_lr,
                "data_seed": args.data_seed,
                "subset": args.subset, "train_size": len(split["train"]), "test_size": len(split["test"])}
    seed_everything(seed)
    parts = [NUM_DIGITS, 2] if args.heads == "per-part" else NUM_DIGITS + 2
    model = RelaxedPointClassifier(Dihedral(4), 1, parts, mode=mode, channels=args.channels,
                                   num_layers=args.layers, branch_layers=args.branch_layers,
                                   balance=not args.no_balance)
    loss_fn, metrics_fn = objectives(model, args.kl_weight, args.align_weight, args.kl_prior,
                                     args.concentration_weight)
    config = engine_config(args, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           weight_decay=args.weight_decay, seed=seed, monitor="valid_error")

    def optimizers(model, config):
        """AdamW; the likelihoods' coefficients at their own rate with the group lasso's proximal step."""
        coefficients = [p for n, p in model.named_parameters() if n.startswith("likelihoods.")]
        if not coefficients:
            return adamw_cosine(model, config)
        others = [p for n, p in model.named_parameters() if not n.startswith("likelihoods.")]
        optimizer = torch.optim.AdamW(
            [{"params": others}, {"params": coefficients, "lr": args.likelihood_lr, "weight_decay": 0.0}],
            lr=config.lr, weight_decay=config.weight_decay)
        if args.sparsity > 0:  # group lasso: a proximal step after each optimizer step
            def prox(optimizer, *_):
                for lam in model.likelihoods:
                    lam.shrink_(optimizer.param_groups[1]["lr"] * args.sparsity)

            optimizer.register_step_post_hook(prox)
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)

    trainer = Trainer(model, split["train"], split["valid"], loss_fn, metrics_fn, config, out, identity=identity,
                      configure_optimizers=optimizers)
    history = trainer.fit(resume=args.resume and os.path.exists(os.path.join(out, "last.pt")),
                          overwrite=args.overwrite)
    best = load_checkpoint(os.path.join(out, "best.pt"), expected_config=identity)
    model.load_state_dict(best["model"])
    layers = layer_report(model, os.path.join(out, "lambda.png"), f"{mode}, seed {seed}")
    valid = {f"valid_{k}": v for k, v in part_accuracies(model, split["valid"]).items()}
    test = {f"test_{k}" if k in ("size", "chiral") else k: v for k, v in part_accuracies(model, split["test"]).items()}
    return {"model": mode, "seed": seed, **test, **valid, "best_epoch": int(best["epoch"]),
            "epochs": len(history), "best_valid_error": trainer.best,
            "parameters": sum(p.numel() for p in model.parameters()),
            "weights": sum(p.numel() for n, p in model.named_parameters() if not n.startswith("likelihoods")),
            "layers": layers}


def layer_report(model, plot_path: str, title: str) -> list[dict]:
    """Per relaxed layer: its likelihood's mass on C4, its KL to uniform and its largest equivariance errors
    under rotations and mirrors; the likelihoods plotted to ``plot_path``."""
    from topoequi.nn.equivariance_degree import equivariance_degree
    from topoequi.symmetry import Cyclic
    from topoequi.testing import plot_equivariance_degree

    report = equivariance_degree(model, subgroup=Cyclic(4))
    plot_equivariance_degree(report, plot_path, title=f"{title}: likelihood per layer (mass on C4 = rotations)")
    layers = []
    for e in report:
        mirror = torch.linalg.det(e["elements"]) < 0
        layers.append({"name": e["name"], "group": str(e["group"]), "mass_on_C4": e["subgroup_mass"],
                       "kl_uniform": e["kl_uniform"], "max_error_rotations": float(e["errors"][~mirror].max()),
                       "max_error_mirrors": float(e["errors"][mirror].max())})
    return layers


def summarize(results: list[dict]) -> list[dict]:
    """Per model: mean and standard deviation over the seeds of the accuracies and of the mass on C4."""
    table = []
    for mode in dict.fromkeys(r["model"] for r in results):
        runs = [r for r in results if r["model"] == mode]
        row = {"model": mode, "seeds": [r["seed"] for r in runs], "parameters": runs[0]["parameters"]}
        for key in ("digit_accuracy", "hand_accuracy", "valid_digit_accuracy", "valid_hand_accuracy"):
            values = torch.tensor([r[key] for r in runs], dtype=torch.float64)
            row[key] = float(values.mean())
            row[key + "_std"] = float(values.std()) if len(runs) > 1 else 0.0
        masses = torch.tensor([[layer["mass_on_C4"] for layer in r["layers"]] for r in runs], dtype=torch.float64)
        row["layers"] = [layer["name"] for layer in runs[0]["layers"]]
        row["mass_on_C4"] = masses.mean(0).tolist()
        row["mass_on_C4_std"] = (masses.std(0) if len(runs) > 1 else torch.zeros(masses.shape[1])).tolist()
        table.append(row)
    return table


def plot_accuracies(table: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    width = 0.8 / len(table)
    for i, r in enumerate(table):
        ax.bar([j + i * width for j in range(2)], [r["digit_accuracy"], r["hand_accuracy"]], width,
               yerr=[r["digit_accuracy_std"], r["hand_accuracy_std"]], capsize=3, label=r["model"])
    ax.set_xticks([j + 0.4 - width / 2 for j in range(2)], ["digit class (D4-invariant)", "handedness (C4 only)"])
    ax.set(ylabel=f"test accuracy ({len(table[0]['seeds'])} seeds)", ylim=(0, 1))
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from topoequi.files import RunFolder, write_json
    from topoequi.train.options import check_engine_arguments

    models = _check(args)
    check_engine_arguments(args)
    with RunFolder(args.out, resume=args.resume, overwrite=args.overwrite, marker="results.json"):
        split = load_split(args, progress=not args.no_progress)
        results = [train_model(mode, seed, split, args) for seed in args.seed_list for mode in models]
        table = summarize(results)
        write_json(os.path.join(args.out, "results.json"),
                   {"args": {k: v for k, v in vars(args).items() if k != "func"}, "summary": table,
                    "results": results})
        plot_accuracies(table, os.path.join(args.out, "accuracy.png"))
    print(f"{'model':<16} {'params':>7} {'digit acc (test)':>16} {'hand acc (test)':>16} {'digit (valid)':>14} "
          f"{'hand (valid)':>13}  mass on C4 per layer")
    for r in table:
        accs = " ".join(f"{r[k]:.3f}+-{r[k + '_std']:.3f}".rjust(w) for k, w in
                        (("digit_accuracy", 16), ("hand_accuracy", 16), ("valid_digit_accuracy", 14),
                         ("valid_hand_accuracy", 13)))
        masses = " ".join(f"{m:.3f}" for m in r["mass_on_C4"])
        print(f"{r['model']:<16} {r['parameters']:>7} {accs}  {masses}")
    print(f"-> {args.out}")
    return 0
