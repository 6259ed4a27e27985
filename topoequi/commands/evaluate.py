"""Evaluate a training checkpoint on its test split (or another split).

    topoequi evaluate runs/qm9-homo-schnet/best.pt [--split test|valid|train]
                      [--target homo] [--model schnet] [--device auto|cpu|cuda:N]

The checkpoint carries its task, target, model and hyper-parameters; the data
are rebuilt the same way. ``--target`` / ``--model`` assert what the
checkpoint must be: a checkpoint of another model or target fails with a
message naming the difference.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a best.pt or last.pt written by topoequi train")
    parser.add_argument("--split", choices=("train", "valid", "test"), default="test")
    parser.add_argument("--target", default=None, help="fail unless the checkpoint is for this target")
    parser.add_argument("--model", default=None, help="fail unless the checkpoint is of this model")
    parser.add_argument("--source", choices=("qm9pack", "sample"), default=None,
                        help="data source (default: the one the checkpoint was trained on)")
    parser.add_argument("--root", default=None, help="dataset cache folder")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto", help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N")


def evaluate_checkpoint(path: str, split: str = "test", expected: dict | None = None,
                        source: str | None = None, root: str | None = None,
                        batch_size: int = 64, device: str = "auto") -> dict:
    """Rebuild the checkpoint's model and data; return ``{"mae": ..., "unit": ..., ...}``."""
    from torch.utils.data import Subset

    from topoequi.files import load_checkpoint
    from topoequi.train import qm9
    from topoequi.train.engine import TrainConfig, Trainer

    ckpt = load_checkpoint(path, expected_config=expected or None)
    config = ckpt.get("config", {})
    if config.get("task") != "qm9":
        raise ValueError(f"checkpoint '{path}' is for task {config.get('task')!r}; "
                         "evaluate knows: qm9")
    if config["model"] not in qm9.MODELS:
        raise ValueError(f"checkpoint '{path}' is of model {config['model']!r}, which is not "
                         f"registered here (available: {', '.join(qm9.MODELS)})")
    dataset, splits, _ = qm9.load_data(config["target"], config["split"], source or config.get("source", "auto"),
                                       root, config["subset"])
    stats = qm9.TargetStats(**config["stats"])
    model = qm9.build_model(config["model"], config["hparams"], stats)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise ValueError(f"checkpoint '{path}' does not fit model {config['model']!r} with "
                         f"hyper-parameters {config['hparams']}: {exc}") from exc
    loss_fn, metrics_fn = qm9.objectives(stats)
    trainer = Trainer(model, Subset(dataset, []), Subset(dataset, []), loss_fn, metrics_fn,
                      TrainConfig(batch_size=batch_size, device=device), out_dir=None)
    result = trainer.evaluate(Subset(dataset, splits[split].tolist()), desc=split)
    return {"target": stats.target, "model": config["model"], "split": split,
            "mae": result["mae"], "unit": stats.unit, "size": len(splits[split]),
            "epoch": int(ckpt["epoch"])}


def run(args: argparse.Namespace) -> int:
    from topoequi.train.device import resolve_device

    resolve_device(args.device)
    expected = {k: v for k, v in (("target", args.target), ("model", args.model)) if v is not None}
    r = evaluate_checkpoint(args.checkpoint, args.split, expected, args.source, args.root,
                            args.batch_size, args.device)
    print(f"{r['model']} on {r['target']} (epoch {r['epoch']}): {r['split']} MAE "
          f"{r['mae']:.2f} {r['unit']} over {r['size']} molecules")
    return 0
