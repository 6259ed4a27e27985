"""Train a neural lattice reducer (self-supervised, log orthogonality defect) on scrambled Gaussian bases.

Every iteration draws a fresh batch of Gaussian bases scrambled by random
unimodular matrices, seeded by ``(seed, iteration)`` so that a resumed run sees
exactly the data an uninterrupted one would. The loss is the change of the log
orthogonality defect caused by the network's moves (no LLL labels). Every
``--eval-every`` iterations the mean log defect reached on a fixed validation
set is logged next to the reference LLL's, ``last.pt`` is written and, when the
validation defect improves, ``best.pt`` (both atomically).
"""
from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dim", type=int, required=True, help="lattice dimension n")
    parser.add_argument("--iterations", type=int, default=150, help="optimizer steps (default 150)")
    parser.add_argument("--batch-size", type=int, default=64, help="bases per iteration (default 64)")
    parser.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate (default 3e-4)")
    parser.add_argument("--hidden", type=int, default=16, help="node/edge width (default 16)")
    parser.add_argument("--layers", type=int, default=2, help="GramEdgeConv layers (default 2)")
    parser.add_argument("--reduction-steps", type=int, default=6, help="unrolled steps in training (default 6)")
    parser.add_argument("--eval-steps", type=int, default=12, help="reduction steps at validation (default 12)")
    parser.add_argument("--no-classical", action="store_true",
                        help="train and validate the network alone (no Gauss / Babai proposals)")
    parser.add_argument("--valid-size", type=int, default=128, help="validation bases (default 128)")
    parser.add_argument("--eval-every", type=int, default=15, help="iterations between validations (default 15)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared 2-core machine more threads are slower)")
    parser.add_argument("--out", default=None, help="run folder (default runs/lattice-n{dim})")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")


def _config(args: argparse.Namespace) -> dict:
    return {"task": "lattice", "dim": args.dim, "hidden_channels": args.hidden, "num_layers": args.layers,
            "steps": args.reduction_steps, "classical_proposals": not args.no_classical}


def _check(args: argparse.Namespace) -> None:
    for name in ("dim", "iterations", "batch_size", "hidden", "valid_size", "eval_every", "threads"):
        if getattr(args, name) < (2 if name == "dim" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be at least {2 if name == 'dim' else 1}, "
                             f"got {getattr(args, name)}")
    if not args.lr > 0:
        raise ValueError(f"--lr must be positive, got {args.lr}")


def batch_of_bases(dim: int, size: int, seed: int):
    """``size`` scrambled Gaussian bases, a deterministic function of ``seed``."""
    from topoequi.lattice import gaussian_bases, scrambled_bases

    return scrambled_bases(gaussian_bases(size, dim, seed=seed), seed=seed + 1)[0]


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from tqdm import tqdm

    from topoequi.lattice import lll_reduce, log_orthogonality_defect
    from topoequi.models import NeuralLatticeReducer
    from topoequi.train.checkpoint import atomic_save, load_checkpoint, seed_everything

    _check(args)
    torch.set_num_threads(args.threads)
    out = Path(args.out or f"runs/lattice-n{args.dim}")
    out.mkdir(parents=True, exist_ok=True)
    config = _config(args)
    seed_everything(args.seed)
    model = NeuralLatticeReducer(config["hidden_channels"], config["num_layers"], config["steps"],
                                 config["classical_proposals"])
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start, best, history = 0, float("inf"), []
    if args.resume and (out / "last.pt").is_file():
        ckpt = load_checkpoint(out / "last.pt", expected_config=config)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start, best, history = ckpt["iteration"], ckpt["best"], ckpt["history"]
        print(f"resumed from {out / 'last.pt'} at iteration {start}")

    valid = batch_of_bases(args.dim, args.valid_size, seed=10**6 + args.seed)
    valid_before = float(log_orthogonality_defect(valid).mean())
    valid_lll = float(log_orthogonality_defect(lll_reduce(valid)[0]).mean())

    def validate() -> float:
        model.eval()
        reduced, _ = model.reduce(valid, steps=args.eval_steps)
        model.train()
        return float(log_orthogonality_defect(reduced).mean())

    log_path = out / "log.csv"
    fields = ["iteration", "train_loss", "valid_log_defect", "valid_lll_log_defect", "valid_input_log_defect",
              "seconds"]
    if not log_path.is_file() or start == 0:
        with open(log_path, "w", newline="") as f:
            csv.DictWriter(f, fields).writeheader()
    def state(iteration: int) -> dict:
        return {"config": config, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "iteration": iteration, "best": best, "history": history}

    if start == 0:
        best = validate()
        print(f"n={args.dim}: input log-defect {valid_before:.4f}, LLL {valid_lll:.4f}, "
              f"model before training {best:.4f}")
        atomic_save(state(0), out / "best.pt")  # the initialisation (Babai rounding) is a valid model
    t0, running = time.time(), []
    bar = tqdm(range(start, args.iterations), initial=start, total=args.iterations, desc=f"train lattice n={args.dim}")
    for it in bar:
        bases = torch.from_numpy(batch_of_bases(args.dim, args.batch_size, seed=args.seed * 10**7 + 2 * it))
        loss = model(bases.mT @ bases)["loss"]
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(running[-20:]):.4f}")
        if (it + 1) % args.eval_every == 0 or it + 1 == args.iterations:
            value = validate()
            row = {"iteration": it + 1, "train_loss": float(np.mean(running)), "valid_log_defect": value,
                   "valid_lll_log_defect": valid_lll, "valid_input_log_defect": valid_before,
                   "seconds": round(time.time() - t0, 1)}
            running = []
            history.append(row)
            with open(log_path, "a", newline="") as f:
                csv.DictWriter(f, fields).writerow(row)
            if value < best:
                best = value
                atomic_save(state(it + 1), out / "best.pt")
            atomic_save(state(it + 1), out / "last.pt")
            bar.write(f"iteration {it + 1}: valid log-defect {value:.4f} (LLL {valid_lll:.4f}, best {best:.4f})")
    print(f"best valid log-defect {best:.4f} vs LLL {valid_lll:.4f}; checkpoints in {out}")
    return 0


def load_reducer(path: str | os.PathLike):
    """A :class:`~topoequi.models.NeuralLatticeReducer` from a checkpoint written by this task."""
    from topoequi.models import NeuralLatticeReducer
    from topoequi.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    config = ckpt.get("config", {})
    if config.get("task") != "lattice":
        raise ValueError(f"checkpoint '{path}' is not a lattice reducer checkpoint (task={config.get('task')!r})")
    model = NeuralLatticeReducer(config["hidden_channels"], config["num_layers"], config["steps"],
                                 config["classical_proposals"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), config
