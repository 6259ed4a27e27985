"""Train a regressor of one QM9 target (L1 on the standardized target, MAE in natural units).

    topoequi train qm9 --target homo [--model implicit|steerable|schnet|dimenet++] [--epochs 10]
                       [--subset N] [--batch-size 32] [--lr 5e-4] [--out DIR] [--resume]
                       [--device auto|cpu|cuda:N] [--precision float32|tf32|bf16-mixed] [--devices N]
                       [--data-path auto|loader|device] [--cuda-graph]

Data: :class:`topoequi.datasets.QM9` (the full QM9 from qm9pack when the
``qm9`` extra is installed, else the 5,000-molecule sample in ``datasets/``).
Split: ``standard`` is 110,000 / 10,000 / 10,831 on the full set, a random
permutation with seed 0 (scaled in proportion on the sample or a subset);
``paper`` is Cormorant's 100,000 / 17,748 / 13,083 (used by EGNN and the
implicit-kernel paper). The model predicts :math:`(y - \\mu) / \\sigma` with
:math:`\\mu, \\sigma` from the training split; MAE is reported in meV for
energies, in the target's unit otherwise.

Models come from :data:`MODELS`: name -> ``factory(hparams, stats)`` returning a
module that maps a PyG ``Batch`` (``z``, ``pos``, ``batch``, bonds in
``edge_index`` / ``edge_attr``) to ``[num_graphs]`` standardized predictions.
Adding a model is one line in :data:`MODELS`. The default is ``implicit``.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class TargetStats:
    """What a model factory may use about the data: the target and its training statistics."""

    target: str
    index: int
    mean: float
    std: float
    unit: str


def _hp(hparams: dict, defaults: dict) -> dict:
    unknown = sorted(set(hparams) - set(defaults))
    if unknown:
        raise ValueError(f"unknown hyper-parameters {unknown}; this model takes {sorted(defaults)}")
    return {**defaults, **hparams}


SCHNET_DEFAULTS = {"hidden_channels": 64, "num_filters": 64, "num_interactions": 3,
                   "num_gaussians": 50, "cutoff": 5.0, "max_num_neighbors": 32}
DIMENET_DEFAULTS = {"hidden_channels": 64, "num_blocks": 2, "int_emb_size": 32,
                    "basis_emb_size": 8, "out_emb_channels": 64, "num_spherical": 7,
                    "num_radial": 6, "cutoff": 5.0, "max_num_neighbors": 32}


def build_schnet(hparams: dict, stats: TargetStats) -> torch.nn.Module:
    """SchNet (CPU-sized defaults: :data:`SCHNET_DEFAULTS`, readout ``add``)."""
    from topoequi.models import SchNet
    from topoequi.models.batch_inputs import BatchInputs

    return BatchInputs(SchNet(**_hp(hparams, SCHNET_DEFAULTS)), ("z", "pos", "batch"), flatten=True)


def build_dimenet(hparams: dict, stats: TargetStats) -> torch.nn.Module:
    """DimeNet++ (CPU-sized defaults: :data:`DIMENET_DEFAULTS`)."""
    from topoequi.models import DimeNetPlusPlus
    from topoequi.models.batch_inputs import BatchInputs

    return BatchInputs(DimeNetPlusPlus(out_channels=1, **_hp(hparams, DIMENET_DEFAULTS)), ("z", "pos", "batch"),
                       flatten=True)


def build_implicit(hparams: dict, stats: TargetStats) -> torch.nn.Module:
    """Implicit steerable kernels (:class:`~topoequi.models.SteerableMoleculeNet`, O(3))."""
    from topoequi.models.steerable_molecule_net import build_steerable_molecule_net

    return build_steerable_molecule_net("implicit", hparams)


def build_steerable(hparams: dict, stats: TargetStats) -> torch.nn.Module:
    """The analytic steerable basis (:class:`~topoequi.models.SteerableMoleculeNet`, O(3))."""
    from topoequi.models.steerable_molecule_net import build_steerable_molecule_net

    return build_steerable_molecule_net("steerable", hparams)


MODELS: dict[str, Callable[[dict, TargetStats], torch.nn.Module]] = {
    "implicit": build_implicit,
    "steerable": build_steerable,
    "schnet": build_schnet,
    "dimenet++": build_dimenet,
}
"""Model registry: name -> ``factory(hparams, stats)``."""


def default_model() -> str:
    """The model ``topoequi train qm9`` trains unless ``--model`` says otherwise."""
    return "implicit"


def natural_unit(target: str) -> tuple[str, float]:
    """The unit MAE is reported in and the factor from the dataset's unit (eV -> meV)."""
    from topoequi.datasets.qm9 import UNITS, target_index

    unit = UNITS[target_index(target)]
    return ("meV", 1000.0) if unit == "eV" else (unit, 1.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from topoequi.datasets.qm9 import TARGETS
    from topoequi.train.options import add_engine_arguments

    parser.add_argument("--target", default="homo", help=f"QM9 target, one of {', '.join(TARGETS)}")
    parser.add_argument("--model", default=default_model(), help=f"one of {', '.join(MODELS)}")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch size")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subset", type=int, default=None, help="use the first N molecules")
    parser.add_argument("--split", choices=("standard", "paper"), default="standard")
    parser.add_argument("--source", default="auto",
                        help="auto (the full QM9 when the qm9 extra is installed, else the embedded sample), "
                             "qm9pack, sample, or a packed .npz (datasets/make_qm9_sample.py --all)")
    parser.add_argument("--root", default=None, help="dataset cache folder (default: $TOPOEQUI_HOME/qm9)")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                        help="model hyper-parameter, e.g. --hp num_layers=3 (repeatable); the keys of "
                             "each model are listed by an unknown one")
    parser.add_argument("--out", default=None, help="run folder (default: runs/qm9-TARGET-MODEL)")
    parser.add_argument("--cuda-graph", action="store_true",
                        help="capture the training step as a CUDA graph on batches padded to a fixed budget "
                             "(implicit and steerable models, one CUDA device; topoequi.train.cuda_graph)")
    add_engine_arguments(parser, processes=True, data_path=True)


def parse_hparams(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--hp expects KEY=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def identity(args: argparse.Namespace) -> dict:
    """What a checkpoint of this run must match."""
    return {"task": "qm9", "target": args.target, "model": args.model,
            "hparams": parse_hparams(args.hp), "split": args.split, "subset": args.subset}


def load_data(target: str, split: str = "standard", source: str = "auto", root: str | None = None,
              subset: int | None = None, progress: bool = True):
    """Dataset, split indices and training statistics of ``target``."""
    from topoequi.datasets import QM9
    from topoequi.datasets.qm9 import target_index

    index = target_index(target)
    dataset = QM9(root, source=source, subset=subset, progress=progress)
    parts = dataset.split(split, seed=0)
    sizes = {name: len(idx) for name, idx in parts.items()}
    if min(sizes.values()) < 1:
        raise ValueError(f"--subset {subset}: the {split} split of {len(dataset)} molecules has "
                         f"{sizes['train']}/{sizes['valid']}/{sizes['test']} train/valid/test molecules; "
                         "every part needs at least one")
    y = dataset.target(index)[parts["train"]].double()
    unit, _ = natural_unit(target)
    stats = TargetStats(target, index, float(y.mean()), float(y.std()), unit)
    return dataset, parts, stats


def build_model(name: str, hparams: dict, stats: TargetStats) -> torch.nn.Module:
    """The registered model ``name`` (:data:`MODELS`) with hyper-parameters ``hparams``."""
    return MODELS[name](hparams, stats)


def objectives(stats: TargetStats):
    """``loss_fn`` (L1 on the standardized target) and ``metrics_fn`` (MAE in natural units)."""
    _, factor = natural_unit(stats.target)

    def loss_fn(out: Tensor, batch) -> Tensor:
        y = (batch.y[:, stats.index] - stats.mean) / stats.std
        return (out.view(-1) - y).abs()

    def metrics_fn(out: Tensor, batch) -> dict[str, Tensor]:
        pred = out.view(-1).double() * stats.std + stats.mean
        return {"mae": (pred - batch.y[:, stats.index].double()).abs() * factor}

    return loss_fn, metrics_fn


def check_args(args: argparse.Namespace):
    """Check every flag before any data is loaded; return the loop settings."""
    from topoequi.datasets.qm9 import target_index
    from topoequi.train.options import engine_config

    target_index(args.target)  # unknown names list the valid ones
    if args.model not in MODELS:
        raise ValueError(f"unknown model {args.model!r}; available: {', '.join(MODELS)}")
    if args.subset is not None and args.subset < 1:
        raise ValueError(f"--subset must be at least 1, got {args.subset}")
    build_model(args.model, parse_hparams(args.hp), None)  # unknown hyper-parameters fail here
    if getattr(args, "cuda_graph", False):
        from topoequi.train.cuda_graph import check_cuda_graph_args
        from topoequi.train.device import resolve_device

        check_cuda_graph_args(resolve_device(args.device), args.model, args.devices, args.precision)
    args.out = args.out or os.path.join("runs", f"qm9-{args.target}-{args.model}")
    return engine_config(args, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         weight_decay=args.weight_decay, seed=args.seed)


def train(args: argparse.Namespace, callbacks: tuple = ()) -> dict:
    """Train (or resume), then evaluate ``best.pt`` on the test split; return the results.

    ``callbacks`` are passed to :class:`~topoequi.train.engine.Trainer`.
    """
    from torch.utils.data import Subset

    from topoequi.files import load_checkpoint
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.distributed import World, init_process_group
    from topoequi.train.engine import Trainer

    config = check_args(args)
    init_process_group(args.device)
    world = World.current()
    if not world.is_main:  # rank 0 builds the dataset cache first
        torch.distributed.barrier()
    dataset, split, stats = load_data(args.target, args.split, args.source, args.root, args.subset,
                                      progress=not args.no_progress and world.is_main)
    if world.size > 1 and world.is_main:
        torch.distributed.barrier()
    run_identity = identity(args) | {"source": dataset.source, "stats": vars(stats)}
    if args.resume:  # refuse a checkpoint of another model or configuration before building
        load_checkpoint(os.path.join(args.out, "last.pt"), expected_config=run_identity)
    seed_everything(args.seed)
    model = build_model(args.model, parse_hparams(args.hp), stats)
    loss_fn, metrics_fn = objectives(stats)
    if getattr(args, "cuda_graph", False):
        from topoequi.train.cuda_graph import GraphedTrainer as trainer_class
    else:
        trainer_class = Trainer
    trainer = trainer_class(model, Subset(dataset, split["train"].tolist()),
                            Subset(dataset, split["valid"].tolist()), loss_fn, metrics_fn, config,
                            args.out, identity=run_identity, callbacks=list(callbacks))
    history = trainer.fit(resume=args.resume, overwrite=args.overwrite)
    best = load_checkpoint(os.path.join(args.out, "best.pt"), expected_config=trainer.identity)
    model.load_state_dict(best["model"])
    test = trainer.evaluate(Subset(dataset, split["test"].tolist()), desc="test")
    results = {"target": args.target, "model": args.model, "unit": stats.unit,
               "test_mae": test["mae"], "best_valid_mae": trainer.best,
               "best_epoch": int(best["epoch"]), "epochs": len(history),
               "train_size": len(split["train"]), "valid_size": len(split["valid"]),
               "test_size": len(split["test"]), "processes": world.size,
               "device": str(trainer.device), "precision": args.precision,
               "backend": torch.distributed.get_backend() if world.size > 1 else None,
               "parameters": sum(p.numel() for p in model.parameters())}
    if world.is_main:
        from topoequi.files import write_json

        write_json(os.path.join(args.out, "results.json"), results | {"history": history})
    return results


def _train_in_process(args: argparse.Namespace) -> None:
    train(args)


def run(args: argparse.Namespace) -> int:
    from topoequi.files import RunFolder

    check_args(args)
    if int(os.environ.get("RANK", "0")) != 0:  # a torchrun rank > 0: rank 0 holds the folder
        train(args)
        return 0
    with RunFolder(args.out, resume=args.resume, overwrite=args.overwrite):
        if args.devices > 1 and int(os.environ.get("WORLD_SIZE", "1")) == 1:
            from topoequi.train.distributed import spawn

            spawn(_train_in_process, args.devices, args, device=args.device)
            with open(os.path.join(args.out, "results.json")) as f:
                results = json.load(f)
        else:
            results = train(args)
    print(f"{results['model']} on {results['target']}: test MAE {results['test_mae']:.2f} "
          f"{results['unit']} (best valid {results['best_valid_mae']:.2f} at epoch "
          f"{results['best_epoch']}, {results['train_size']}/{results['valid_size']}/"
          f"{results['test_size']} molecules, {results['processes']} process(es) on "
          f"{results['device']}{' via ' + results['backend'] if results['backend'] else ''}) -> {args.out}")
    return 0
