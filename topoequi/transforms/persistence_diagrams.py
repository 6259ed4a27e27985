"""Persistence diagrams attached to PyG data objects, and the collate that keeps them per graph."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.transforms import BaseTransform

from topoequi.topology.persistence import PersistenceDiagram
from topoequi.topology.persistence_cubical import cubical_diagram
from topoequi.topology.persistence_flag import clique_diagram, rips_diagram

FILTRATIONS = {"rips": "pos", "lower_star": "x", "edge": "edge_weight", "cubical": "image"}


def diagram_keys(max_dim: int) -> list[str]:
    """The attribute names a diagram of dimensions ``0..max_dim`` is stored under."""
    return [f"{name}_{k}" for k in range(max_dim + 1) for name in ("diagram", "essential")]


class PersistenceDiagrams(BaseTransform):
    r"""Attach the persistence diagrams of a filtration of each graph, point cloud or image.

    Stores ``diagram_k`` (``[P_k, 2]``, the finite (birth, death) points) and ``essential_k``
    (``[Q_k]``, births of the classes that never die) for :math:`k = 0, \dots,` ``max_dim``. The
    filtration reads one attribute (``key``, default per filtration):

    - ``"rips"``: Vietoris-Rips of ``pos`` (:func:`~topoequi.topology.rips_diagram`);
    - ``"lower_star"``: clique complex of ``edge_index`` with node values ``x`` (``[N]`` or ``[N, 1]``);
    - ``"edge"``: clique complex of ``edge_index`` with edge values ``edge_weight``;
    - ``"cubical"``: sublevel sets of an ``image`` (``[H, W]``).

    The diagrams are computed without gradients (fixed features); compute them inside the model
    with :mod:`topoequi.topology` to learn the filtration. Batch with :func:`collate_diagrams` (or
    PyG's ``DataLoader(follow_batch=diagram_keys(max_dim))``) and read back with
    :func:`diagrams_from_batch`.

    Args:
        filtration (str): ``"rips"``, ``"lower_star"``, ``"edge"`` or ``"cubical"``.
        max_dim (int, optional): highest homology dimension. (default: ``1``)
        key (str, optional): the attribute holding the filtration. (default: per filtration)
        max_edge_length (float, optional): Rips only: longest edge. (default: ``inf``)
    """

    def __init__(self, filtration: str, max_dim: int = 1, key: str | None = None,
                 max_edge_length: float = math.inf) -> None:
        if filtration not in FILTRATIONS:
            raise ValueError(f"PersistenceDiagrams: filtration must be one of {tuple(FILTRATIONS)}, "
                             f"got {filtration!r}")
        self.filtration, self.max_dim = filtration, max_dim
        self.key = FILTRATIONS[filtration] if key is None else key
        self.max_edge_length = max_edge_length

    def diagram(self, data: Data) -> PersistenceDiagram:
        values = getattr(data, self.key, None)
        if values is None:
            raise ValueError(f"PersistenceDiagrams: data has no attribute '{self.key}' "
                             f"(the {self.filtration} filtration's values)")
        if not isinstance(values, Tensor):
            raise TypeError(f"PersistenceDiagrams: data.{self.key} must be a tensor, got {type(values).__name__}")
        values = values.detach() if values.is_floating_point() else values.to(torch.get_default_dtype())
        if self.filtration == "rips":
            return rips_diagram(values, max_dim=self.max_dim, max_edge_length=self.max_edge_length)
        if self.filtration == "cubical":
            return cubical_diagram(values, max_dim=self.max_dim)
        if data.edge_index is None:
            raise ValueError(f"PersistenceDiagrams: the {self.filtration} filtration needs data.edge_index")
        values = values.reshape(-1) if values.dim() == 2 and values.size(1) == 1 else values
        if self.filtration == "lower_star":
            return clique_diagram(data.edge_index, int(data.num_nodes), node_values=values, max_dim=self.max_dim)
        return clique_diagram(data.edge_index, int(data.num_nodes), edge_values=values, max_dim=self.max_dim)

    def forward(self, data: Data) -> Data:
        diagram = self.diagram(data)
        for k in range(self.max_dim + 1):
            data[f"diagram_{k}"], data[f"essential_{k}"] = diagram.points[k], diagram.essential[k]
        return data

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(filtration={self.filtration!r}, max_dim={self.max_dim}, "
                f"key={self.key!r}, max_edge_length={self.max_edge_length})")


def collate_diagrams(data_list: Sequence[Data], max_dim: int = 1) -> Batch:
    """Batch data objects carrying diagrams, with a ``<key>_batch`` vector for every diagram key
    (usable as a ``collate_fn``)."""
    return Batch.from_data_list(list(data_list), follow_batch=diagram_keys(max_dim))


def diagrams_from_batch(batch: Batch, max_dim: int = 1) -> PersistenceDiagram:
    """The :class:`~topoequi.topology.PersistenceDiagram` of a batch built by :func:`collate_diagrams`
    (or any PyG ``Batch`` of data carrying ``diagram_k`` / ``essential_k``)."""
    out: dict[str, list[Tensor]] = {"diagram": [], "diagram_batch": [], "essential": [], "essential_batch": []}
    for k in range(max_dim + 1):
        for name in ("diagram", "essential"):
            key = f"{name}_{k}"
            if key not in batch:
                raise ValueError(f"diagrams_from_batch: batch has no '{key}'; attach diagrams up to "
                                 f"max_dim={max_dim} with PersistenceDiagrams")
            out[name].append(batch[key])
            out[f"{name}_batch"].append(batch[f"{key}_batch"] if f"{key}_batch" in batch
                                        else _graph_of_rows(batch, key))
    return PersistenceDiagram(out["diagram"], out["diagram_batch"], out["essential"], out["essential_batch"],
                              batch.num_graphs)


def _graph_of_rows(batch: Batch, key: str) -> Tensor:
    """The graph of each row of a concatenated attribute, from the batch's slices."""
    counts = batch._slice_dict[key].diff().to(batch[key].device)
    return torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)
