r"""Persistence diagrams whose points are differentiable functions of the filtration values.

A persistence engine (gudhi, giotto-ph) returns, for every point of a diagram,
the simplex that created the class and the simplex that destroyed it. The
diagram is then read back in torch as a gather of the filtration values of
those simplices,

.. math::
    (b_i, d_i) = \bigl(f(\sigma_{\mathrm{birth}(i)}),\ f(\sigma_{\mathrm{death}(i)})\bigr),

so autograd sends :math:`\partial L / \partial b_i` to the creator and
:math:`\partial L / \partial d_i` to the destroyer (the standard subgradient,
Leygonie, Oudot & Tillmann, https://arxiv.org/abs/1910.00960). Away from ties
(all filtration values distinct) the pairing is locally constant, the diagram
is a smooth function of the values and the gradient is exact. At ties the
engine picks one of the tied simplices and the whole gradient of that point
goes to it; the result is one element of the subdifferential, and which one
depends on the engine's order. Points of zero persistence are not returned.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from topoequi.graph.checks import check_batch


@dataclass
class PersistenceDiagram:
    """Persistence diagrams of a batch of complexes, one list entry per homology dimension.

    Attributes:
        points (list of Tensor ``[P_k, 2]``): the finite points (birth, death) in dimension ``k``.
        batch (list of LongTensor ``[P_k]``): the complex each point belongs to.
        essential (list of Tensor ``[Q_k]``): births of the classes that never die.
        essential_batch (list of LongTensor ``[Q_k]``): the complex of each essential class.
        num_graphs (int): number of complexes in the batch.
    """

    points: list[Tensor]
    batch: list[Tensor]
    essential: list[Tensor]
    essential_batch: list[Tensor]
    num_graphs: int

    @property
    def max_dim(self) -> int:
        return len(self.points) - 1

    def __getitem__(self, dim: int) -> tuple[Tensor, Tensor]:
        """``(points, batch)`` of homology dimension ``dim``, the input of the vectorisation layers."""
        if not 0 <= dim <= self.max_dim:
            raise IndexError(f"PersistenceDiagram: dim must be in [0, {self.max_dim}], got {dim}")
        return self.points[dim], self.batch[dim]

    def graph(self, index: int) -> PersistenceDiagram:
        """The diagram of one complex of the batch."""
        if not 0 <= index < self.num_graphs:
            raise IndexError(f"PersistenceDiagram: index must be in [0, {self.num_graphs}), got {index}")

        def pick(values: list[Tensor], batch: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
            masks = [b == index for b in batch]
            return [v[m] for v, m in zip(values, masks)], [torch.zeros_like(b[m]) for b, m in zip(batch, masks)]

        points, batch = pick(self.points, self.batch)
        essential, essential_batch = pick(self.essential, self.essential_batch)
        return PersistenceDiagram(points, batch, essential, essential_batch, 1)

    def __repr__(self) -> str:
        sizes = ", ".join(f"H{k}: {p.size(0)}+{e.size(0)}" for k, (p, e) in enumerate(zip(self.points,
                                                                                           self.essential)))
        return f"{self.__class__.__name__}(num_graphs={self.num_graphs}, {sizes})"


@dataclass
class Pairing:
    """Creator and destroyer simplices of one homology dimension, as index arrays into a value table.

    ``birth`` / ``death`` are ``[P, m]`` integer arrays (the ``m`` vertices or cells that name a
    simplex), ``essential`` ``[Q, m]``; ``batch`` / ``essential_batch`` name the complex of each
    point (left ``None`` for a single complex).
    """

    birth: np.ndarray
    death: np.ndarray
    essential: np.ndarray
    batch: np.ndarray | None = None
    essential_batch: np.ndarray | None = None


def assemble(pairings: Sequence[Pairing], values: Sequence[Callable[[Tensor], Tensor]],
             num_graphs: int, device: torch.device) -> PersistenceDiagram:
    """Read every pairing back through the value functions (``values[k]`` maps an index array
    ``[P, m]`` to filtration values ``[P]`` in torch; births of dimension ``k`` use ``values[k]``,
    deaths ``values[k + 1]``)."""
    def to(a: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(device)

    points, batch, essential, essential_batch = [], [], [], []
    for k, p in enumerate(pairings):
        points.append(torch.stack([values[k](to(p.birth)), values[k + 1](to(p.death))], dim=-1))
        batch.append(to(p.batch))
        essential.append(values[k](to(p.essential)))
        essential_batch.append(to(p.essential_batch))
    return PersistenceDiagram(points, batch, essential, essential_batch, num_graphs)


def concat_pairings(parts: Sequence[Sequence[Pairing]], offsets: Sequence[int], widths: Sequence[int]
                    ) -> list[Pairing]:
    """Concatenate the pairings of several complexes (``parts[g][k]``), shifting the indices of
    complex ``g`` by ``offsets[g]``; ``widths[k]`` is the number of indices naming a simplex of the
    birth in dimension ``k`` (``widths[k + 1]`` for deaths)."""
    def cat(arrays: list[np.ndarray], width: int) -> np.ndarray:
        shifted = [a.reshape(-1, width) + off for a, off in zip(arrays, offsets)]
        return np.concatenate(shifted, 0) if shifted else np.zeros((0, width), dtype=np.int64)

    def graph_ids(arrays: list[np.ndarray]) -> np.ndarray:
        ids = [np.full(len(a), g, dtype=np.int64) for g, a in enumerate(arrays)]
        return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)

    out = []
    for k in range(len(widths) - 1):
        births, deaths, essential = ([getattr(p[k], name) for p in parts] for name in ("birth", "death", "essential"))
        out.append(Pairing(cat(births, widths[k]), cat(deaths, widths[k + 1]), cat(essential, widths[k]),
                           graph_ids(births), graph_ids(essential)))
    return out


def split_batch(owner: str, batch: Tensor | None, reference: Tensor) -> tuple[np.ndarray, int]:
    """Start offsets ``[G + 1]`` of the complexes of a sorted PyG ``batch`` vector (one entry per row
    of ``reference``), and ``G``."""
    if batch is None:
        return np.array([0, reference.size(0)], dtype=np.int64), 1
    batch = check_batch(owner, "batch", batch, reference, None).cpu()
    counts = torch.bincount(batch, minlength=int(batch.max()) + 1 if batch.numel() else 0)
    ptr = np.concatenate([[0], np.cumsum(counts.numpy())]).astype(np.int64)
    return ptr, len(ptr) - 1


def check_values(owner: str, name: str, values: Tensor, length: int) -> None:
    """A finite floating-point vector of the expected length."""
    if not isinstance(values, Tensor) or not values.is_floating_point():
        raise TypeError(f"{owner}: {name} must be a floating-point tensor, got "
                        f"{getattr(values, 'dtype', type(values).__name__)}")
    if values.dim() != 1 or values.numel() != length:
        raise ValueError(f"{owner}: {name} must have shape [{length}], got {list(values.shape)}")
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"{owner}: {name} holds NaN or infinite values")


def check_max_dim(owner: str, max_dim: object, top: int) -> int:
    if not isinstance(max_dim, int) or isinstance(max_dim, bool) or not 0 <= max_dim <= top:
        raise ValueError(f"{owner}: max_dim must be an int in [0, {top}], got {max_dim!r}")
    return max_dim


def check_diagram_points(owner: str, points: Tensor, batch: Tensor | None,
                         num_graphs: int | None) -> tuple[Tensor, int]:
    """Validate finite diagram points ``[P, 2]`` with their ``batch``; returns the batch (zeros when
    ``None``) and the number of diagrams (``num_graphs``, else ``batch.max() + 1``)."""
    if not isinstance(points, Tensor) or not points.is_floating_point() or points.dim() != 2 \
            or points.size(1) != 2:
        shape = list(points.shape) if isinstance(points, Tensor) else type(points).__name__
        raise ValueError(f"{owner}: points must be a floating-point tensor [P, 2] of (birth, death), got {shape}")
    if not bool(torch.isfinite(points).all()):
        raise ValueError(f"{owner}: points holds NaN or infinite values (essential classes go separately)")
    if num_graphs is not None and (not isinstance(num_graphs, int) or num_graphs < 1):
        raise ValueError(f"{owner}: num_graphs must be a positive int, got {num_graphs!r}")
    batch = check_batch(owner, "batch", batch, points, num_graphs)
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() else 1
    return batch, num_graphs


def check_range(owner: str, name: str, value: tuple[float, float]) -> tuple[float, float]:
    """An interval ``(low, high)`` with ``low < high``."""
    if len(value) != 2 or not float(value[0]) < float(value[1]):
        raise ValueError(f"{owner}: {name} must be (low, high) with low < high, got {value!r}")
    return float(value[0]), float(value[1])
