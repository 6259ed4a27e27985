"""Measuring the learned degree of equivariance of relaxed layers, and plotting it."""
from __future__ import annotations

import copy
import math
import os

import torch
from torch import Tensor, nn

from topoequi.nn.conv.steerable_message_passing import SteerableMessagePassing
from topoequi.nn.group_likelihood import kl_divergence
from topoequi.symmetry import Group
from topoequi.testing import equivariance_error


def relaxed_layers(module: nn.Module) -> list[tuple[str, SteerableMessagePassing]]:
    """``(name, layer)`` of every steerable convolution inside ``module`` that carries a likelihood."""
    return [(name or type(m).__name__, m) for name, m in module.named_modules()
            if isinstance(m, SteerableMessagePassing) and m.likelihood is not None]


def _test_elements(group: Group) -> Tensor:
    if group.is_finite:
        return group.elements()
    return group.grid(32 if group.has_reflections else 16)


@torch.no_grad()
def equivariance_degree(module: nn.Module, subgroup: Group | None = None, elements: Tensor | None = None,
                        num_nodes: int = 12, num_edges: int = 48, seed: int = 0) -> list[dict]:
    """Report, per relaxed layer of ``module``, its likelihood and its measured equivariance.

    Each entry holds ``name``, ``group`` (of the likelihood), ``grid`` ``[S, d, d]``
    and ``density`` ``[S]`` (:math:`\\lambda` on the grid), ``entropy`` and
    ``kl_uniform`` (floats, ``entropy = -kl_uniform``), ``elements`` ``[B, d, d]``
    (default: all elements of the layer's group G, or a grid of it) and
    ``errors`` ``[B]``: the equivariance error of the layer for each element,
    ``max |f(g.x) - g.f(x)| / max |f(x)|`` in float64 on a random graph, and
    with ``subgroup`` H of G, ``subgroup_mass`` (the probability of H under lambda).
    """
    layers = relaxed_layers(module)
    if not layers:
        raise ValueError("equivariance_degree: the module has no steerable convolution with a likelihood")
    report = []
    for name, layer in layers:
        lam, group = layer.likelihood, layer.group
        test = _test_elements(group) if elements is None else group.check_elements(elements).to(torch.float64)
        gen = torch.Generator().manual_seed(seed)
        pos = torch.randn(num_nodes, group.d, generator=gen, dtype=torch.float64) * 1.5
        edge_index = torch.randint(num_nodes, (2, num_edges), generator=gen)
        x = torch.randn(num_nodes, layer.in_rep.dim, generator=gen, dtype=torch.float64)
        args, reps = [x, pos, edge_index], [layer.in_rep, "pos", None]
        if layer.edge_rep is not None:
            args.append(torch.randn(num_edges, layer.edge_rep.dim, generator=gen, dtype=torch.float64))
            reps.append(layer.edge_rep)
        double = copy.deepcopy(layer).double()
        scale = double(*args).abs().max().item()
        errors = torch.tensor([equivariance_error(double, args, reps, layer.out_rep, elements=g[None])[0]
                               for g in test], dtype=torch.float64) / max(scale, 1e-300)
        kl = float(kl_divergence(lam, None))
        entry = {"name": name, "group": lam.group, "grid": lam.grid.double().cpu(),
                 "density": lam.density().double().cpu(), "entropy": -kl, "kl_uniform": kl,
                 "elements": test.cpu(), "errors": errors}
        if subgroup is not None:
            if subgroup.d != group.d or not bool(group.contains(subgroup.generators()).all()):
                raise ValueError(f"equivariance_degree: {group} (layer {name}) has no subgroup {subgroup}")
            inside = subgroup.contains(lam.grid.to(torch.float64))  # grid elements of K in H
            entry["subgroup_mass"] = float(lam.weights()[inside].sum())
        report.append(entry)
    return report


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
