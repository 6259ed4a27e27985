"""Measuring the learned degree of equivariance of relaxed layers (plotted by
:func:`topoequi.testing.plot_equivariance_degree`)."""
from __future__ import annotations

import copy

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
