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
import math


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
    parser.add_argument("--out", default=None, help="run folder (default runs/lattice-n{dim})")
    from topoequi.train.options import add_engine_arguments

    add_engine_arguments(parser)
    parser.set_defaults(threads=1)  # on a shared 2-core machine more threads are slower


def _config(args: argparse.Namespace) -> dict:
    return {"task": "lattice", "dim": args.dim, "hidden_channels": args.hidden, "num_layers": args.layers,
            "steps": args.reduction_steps, "classical_proposals": not args.no_classical}


def check_args(args: argparse.Namespace):
    """Check every flag before anything is built; return the loop settings (one epoch = ``eval_every``
    iterations)."""
    from topoequi.train.options import engine_config

    for name in ("dim", "iterations", "batch_size", "hidden", "layers", "reduction_steps", "eval_steps",
                 "valid_size", "eval_every"):
        if getattr(args, name) < (2 if name == "dim" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be at least {2 if name == 'dim' else 1}, "
                             f"got {getattr(args, name)}")
    args.out = args.out or f"runs/lattice-n{args.dim}"
    return engine_config(args, epochs=math.ceil(args.iterations / args.eval_every), batch_size=args.batch_size,
                         lr=args.lr, grad_clip=1.0, seed=args.seed, monitor="valid_log_defect")


def batch_of_bases(dim: int, size: int, seed: int):
    """``size`` scrambled Gaussian bases, a deterministic function of ``seed``."""
    from topoequi.lattice import gaussian_bases, scrambled_bases

    return scrambled_bases(gaussian_bases(size, dim, seed=seed), seed=seed + 1)[0]


def run(args: argparse.Namespace) -> int:
    import torch

    from topoequi.files import RunFolder
    from topoequi.lattice import lll_reduce, log_orthogonality_defect
    from topoequi.models import NeuralLatticeReducer
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.engine import Trainer

    config = check_args(args)
    with RunFolder(args.out, resume=args.resume, overwrite=args.overwrite):
        identity = _config(args)
        seed_everything(args.seed)
        model = NeuralLatticeReducer(identity["hidden_channels"], identity["num_layers"], identity["steps"],
                                     identity["classical_proposals"])
        valid = batch_of_bases(args.dim, args.valid_size, seed=10**6 + args.seed)
        reference = {"valid_lll_log_defect": float(log_orthogonality_defect(lll_reduce(valid)[0]).mean()),
                     "valid_input_log_defect": float(log_orthogonality_defect(valid).mean())}

        def train_batches(trainer: Trainer, epoch: int):
            for it in range(epoch * args.eval_every, min((epoch + 1) * args.eval_every, args.iterations)):
                bases = torch.from_numpy(batch_of_bases(args.dim, args.batch_size, seed=args.seed * 10**7 + 2 * it))
                yield bases.mT @ bases

        def validate(trainer: Trainer) -> dict:
            model.eval()
            reduced, _ = model.reduce(valid, steps=args.eval_steps)
            model.train()
            return {"iteration": trainer.steps, "valid_log_defect": float(log_orthogonality_defect(reduced).mean()),
                    **reference}

        def adam(model, config):
            return torch.optim.Adam(model.parameters(), lr=config.lr), None

        trainer = Trainer(model, None, None, lambda out, gram: out["loss"], None, config, args.out,
                          identity=identity, configure_optimizers=adam, train_batches=train_batches,
                          validate=validate)
        if not args.resume:  # the initialisation (Babai rounding) is a valid model: best.pt from the start
            trainer.best = validate(trainer)["valid_log_defect"]
            print(f"n={args.dim}: input log-defect {reference['valid_input_log_defect']:.4f}, "
                  f"LLL {reference['valid_lll_log_defect']:.4f}, model before training {trainer.best:.4f}")
            trainer.save("best.pt")
        trainer.fit(resume=args.resume, overwrite=args.overwrite)
    print(f"best valid log-defect {trainer.best:.4f} vs LLL {reference['valid_lll_log_defect']:.4f}; "
          f"checkpoints in {args.out}")
    return 0
