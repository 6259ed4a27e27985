"""What a run reports: a CSV of its rows, TensorBoard scalars, one line per epoch, curves as a PNG.

Every file is rewritten whole and atomically from the run's history, so after a resume
the log holds exactly the rows of the epochs that the checkpoint knows.
"""
from __future__ import annotations

import csv
import io
import math
import os
import sys
from pathlib import Path

from topoequi.files import atomic_write


def write_csv(path: str | os.PathLike, rows: list[dict]) -> None:
    """``rows`` (dicts, the first one's keys as the header) as a CSV file, atomically."""
    text = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, text.getvalue())


def format_row(row: dict) -> str:
    """``epoch 3/10  train_loss 0.1234  valid_mae 98.76  12.3 s``: one line for the terminal."""
    parts = []
    for key, value in row.items():
        if key in ("epoch", "epochs", "seconds"):
            continue
        parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    head = f"epoch {row['epoch']}" + (f"/{row['epochs']}" if "epochs" in row else "")
    return "  ".join([head, *parts, f"{row.get('seconds', math.nan):.1f} s"])


class RunLogger:
    """``log.csv``, TensorBoard (when installed) and a line per epoch on stdout, for the main process.

    Args:
        out_dir: the run folder.
        echo (bool): print one line per epoch. (default: ``True``)
    """

    def __init__(self, out_dir: str | os.PathLike, echo: bool = True) -> None:
        self.out_dir, self.echo = Path(out_dir), echo
        self._tensorboard = None

    def log(self, history: list[dict], epochs: int | None = None) -> None:
        row = history[-1]
        write_csv(self.out_dir / "log.csv", history)
        if self.echo:
            print(format_row({"epoch": row["epoch"], "epochs": epochs, **row} if epochs else row),
                  file=sys.stdout, flush=True)
        from topoequi.typing import WITH_TENSORBOARD

        if WITH_TENSORBOARD:
            if self._tensorboard is None:
                from torch.utils.tensorboard import SummaryWriter

                self._tensorboard = SummaryWriter(str(self.out_dir / "tensorboard"))
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)):
                    self._tensorboard.add_scalar(key, value, row["epoch"])
            self._tensorboard.flush()

    def close(self) -> None:
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None


def plot_curves(history: list[dict], path: str | os.PathLike, monitor: str = "valid_mae") -> None:
    """Training loss and the monitored validation metric against the epoch, as a PNG."""
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [r["train_loss"] for r in history], marker="o")
    ax1.set(xlabel="epoch", ylabel="train loss", title="training loss")
    if all(r["train_loss"] > 0 for r in history):
        ax1.set_yscale("log")
    if monitor in history[0]:
        values = [r[monitor] for r in history]
        ax2.plot(epochs, values, marker="o", color="C1")
        if all(v > 0 for v in values):
            ax2.set_yscale("log")
    ax2.set(xlabel="epoch", ylabel=monitor, title=monitor)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write(path, buffer.getvalue())
