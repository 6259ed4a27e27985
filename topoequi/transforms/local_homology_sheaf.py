"""Precompute the local homology sheaf of a simplicial complex."""
from __future__ import annotations

import torch
from torch_geometric.transforms import BaseTransform

from topoequi.topology.complex import SimplicialComplex
from topoequi.topology.sheaf import local_homology_sheaf


class AddLocalHomologySheaf(BaseTransform):
    r"""Attach the stalks and restriction maps of the local homology sheaf.

    Adds to a :class:`~topoequi.topology.SimplicialComplex`:
    ``restriction`` (``[E, 2, d, d]``: :math:`F_{u \le e}, F_{v \le e}`),
    ``vertex_mask`` / ``edge_mask`` (``[N, d]`` / ``[E, d]``, the stalk
    coordinates in use) and ``vertex_dims`` / ``edge_dims`` (``[*, 3]``, the
    exact dimensions of :math:`H_0, H_1, H_2`). All are per cell and batch by
    concatenation. See :mod:`topoequi.topology.sheaf` for the construction,
    the canonical (persistent) basis and the truncation to width ``d``.

    Args:
        stalk_width (int, optional): ``d``; stalks keep their first ``d`` basis
            vectors. (default: ``4``)
        weight (str, optional): the filtration fixing the basis order:
            ``None`` (edge indices), ``"edge_weight"`` (``data.edge_weight``)
            or ``"features"`` (:math:`\|x_u - x_v\|`). (default: ``None``)
    """

    def __init__(self, stalk_width: int = 4, weight: str | None = None) -> None:
        if not isinstance(stalk_width, int) or stalk_width < 1:
            raise ValueError(f"AddLocalHomologySheaf: stalk_width must be a positive int, got {stalk_width!r}")
        if weight not in (None, "edge_weight", "features"):
            raise ValueError(f"AddLocalHomologySheaf: weight must be None, 'edge_weight' or 'features', "
                             f"got {weight!r}")
        self.stalk_width, self.weight = stalk_width, weight

    def forward(self, data: SimplicialComplex) -> SimplicialComplex:
        if not isinstance(data, SimplicialComplex):
            raise TypeError(f"AddLocalHomologySheaf: expected a SimplicialComplex (apply CliqueComplex or "
                            f"RipsComplex first), got {type(data).__name__}")
        w = None
        if self.weight == "edge_weight":
            if data.edge_weight is None:
                raise ValueError("AddLocalHomologySheaf: weight='edge_weight' but data has no edge_weight")
            w = data.edge_weight
        elif self.weight == "features":
            if data.x is None:
                raise ValueError("AddLocalHomologySheaf: weight='features' but data has no x")
            x = data.x.double()
            w = (x[data.edges[:, 0]] - x[data.edges[:, 1]]).norm(dim=-1)
        sheaf = local_homology_sheaf(data.edges, data.triangles, data.num_nodes, edge_weight=w,
                                     stalk_width=self.stalk_width, dtype=torch.get_default_dtype())
        data.restriction = sheaf.restriction
        data.vertex_mask, data.edge_mask = sheaf.vertex_mask, sheaf.edge_mask
        data.vertex_dims, data.edge_dims = sheaf.vertex_dims, sheaf.edge_dims
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(stalk_width={self.stalk_width}, weight={self.weight!r})"
