"""Plot of an equivariance-degree report (:func:`topoequi.nn.equivariance_degree.equivariance_degree`)."""
from __future__ import annotations

import math
import os

import torch
from torch import Tensor


def _labels(elements: Tensor) -> list[str]:
    if elements.shape[-1] != 2:
        return [str(i) for i in range(elements.shape[0])]
    theta = torch.rad2deg(torch.atan2(elements[:, 1, 0], elements[:, 0, 0])).round().long() % 360
    flip = torch.linalg.det(elements) < 0
    return [f"{'F' if f else 'R'}{int(t)}" for t, f in zip(theta, flip)]


def plot_equivariance_degree(report: list[dict], path: str | os.PathLike, title: str | None = None) -> None:
    """Save a PNG: one row per layer, the likelihood on its grid (left) and the
    equivariance error per group element (right). Planar elements are labelled
    ``R<deg>`` (rotation) and ``F<deg>`` (rotation after the flip ``y -> -y``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not report:
        raise ValueError("plot_equivariance_degree: the report is empty")
    fig, axes = plt.subplots(len(report), 2, figsize=(11, 2.2 * len(report) + 0.6), squeeze=False)
    for row, entry in zip(axes, report):
        labels = _labels(entry["grid"])
        colors = ["tab:red" if lab.startswith("F") else "tab:blue" for lab in labels]
        row[0].bar(range(len(labels)), entry["density"].numpy(), color=colors)
        row[0].axhline(1.0, color="gray", lw=0.8, ls="--")
        row[0].set_ylabel("lambda")
        mass = f", mass on H {entry['subgroup_mass']:.3f}" if "subgroup_mass" in entry else ""
        row[0].set_title(f"{entry['name']}: lambda over {entry['group']} (KL to uniform "
                         f"{entry['kl_uniform']:.3f}{mass})", fontsize=9)
        ticks = range(0, len(labels), max(1, math.ceil(len(labels) / 16)))
        row[0].set_xticks(list(ticks), [labels[i] for i in ticks], fontsize=7)
        err_labels = _labels(entry["elements"])
        row[1].bar(range(len(err_labels)), entry["errors"].clamp_min(1e-17).numpy(),
                   color=["tab:red" if lab.startswith("F") else "tab:blue" for lab in err_labels])
        row[1].set_yscale("log")
        row[1].set_ylabel("rel. equivariance error")
        ticks = range(0, len(err_labels), max(1, math.ceil(len(err_labels) / 16)))
        row[1].set_xticks(list(ticks), [err_labels[i] for i in ticks], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
