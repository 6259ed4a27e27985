"""Group-sampled graphs: group elements as nodes, edges to nearest neighbours in the group.

The nodes are samples ``g_1..g_N`` of a group G (a uniform grid, random Haar
samples, a design grid that keeps the Fourier transform well conditioned, or
any of these moved per feature by a frame, ``U g_n``); each node is joined to
its ``k`` nearest neighbours in the chordal metric

    dist(a, b) = ||a - b||_F,

which is bi-invariant (``dist(h a, h b) = dist(a h, b h) = dist(a, b)``) and
defined across the components of O(d). Left translation by a frame is
therefore an isometry: an adaptive graph ``U g_n`` has exactly the edges of
the base graph, and the relative elements ``g_i^{-1} g_j`` on the edges do not
change. A function sampled on the nodes (``x_n = f(U g_n)``) can be processed
by message passing along the edges, e.g. a sampled group convolution whose
messages depend on ``g_i^{-1} g_j``.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from topoequi.symmetry.fourier import check_regular, sampling_matrix
from topoequi.symmetry.group import Group
from topoequi.symmetry.representation import Rep
from topoequi.symmetry.spatial import SO3, WithReflection, quaternion_to_matrix


def group_distance(a: Tensor, b: Tensor) -> Tensor:
    """Chordal distance ``||a - b||_F`` between elements ``[..., d, d]`` (broadcasting)."""
    return (a - b).flatten(-2).norm(dim=-1)


def knn_group_edges(elements: Tensor, k: int) -> Tensor:
    """Edges ``[2, N k]`` from the ``k`` nearest other samples ``j`` to each sample ``i`` (``j -> i``).

    Ties are broken by the lower index; rows of ``edge_index`` are (source, target).
    """
    n = elements.shape[0]
    if not isinstance(k, int) or not 0 < k < n:
        raise ValueError(f"knn_group_edges: k must be an int in [1, {n - 1}] for {n} samples, got {k!r}")
    dist = group_distance(elements[:, None], elements[None, :])
    dist.fill_diagonal_(float("inf"))
    order = torch.sort(dist, dim=1, stable=True).indices[:, :k]  # stable sort: ties by index
    target = torch.arange(n).repeat_interleave(k)
    return torch.stack([order.reshape(-1), target])


@lru_cache(maxsize=32)
def _rotation_design(max_frequency: int, n: int, steps: int) -> Tensor:
    """``n`` rotations maximising ``log det(A^T A)`` for SO(3) at band-limit ``max_frequency``."""
    rep = SO3().regular_rep(max_frequency)
    q = _matrix_to_quaternion(SO3().grid(n)).requires_grad_(True)
    opt = torch.optim.Adam([q], lr=3e-2)
    for _ in range(steps):
        a = sampling_matrix(rep, quaternion_to_matrix(q))
        loss = -torch.linalg.slogdet(a.T @ a).logabsdet
        opt.zero_grad()
        loss.backward()
        opt.step()
    return quaternion_to_matrix(q.detach())


def design_grid(rep: Rep, n: int | None = None, steps: int = 100) -> Tensor:
    """A deterministic set of ``n`` samples (default ``rep.dim``, the least a
    band-limited function needs) on which the Fourier transform is well conditioned.

    For SO(2) and O(2) (planar or axial) this is the uniform grid, whose
    sampling matrix is orthogonal up to scale. For SO(3) and O(3), where a
    spiral with exactly ``rep.dim`` points is badly conditioned (condition 1.7e3
    at L = 2), the spiral's rotations are moved by ``steps`` Adam steps to
    maximise ``log det(A^T A)`` (a D-optimal design); O(3) samples each rotation
    and its inversion (its sampling matrix is then two copies of SO(3)'s, up to
    signs and scale). Finite groups: all elements.
    """
    check_regular(rep)
    group = rep.group
    n = rep.dim if n is None else n
    if n < rep.dim:
        raise ValueError(f"design_grid: n={n} samples are fewer than the {rep.dim} a band-limited function of "
                         f"{rep} needs; at least {rep.dim}")
    if group.is_finite:
        return group.grid(group.order)
    if group == SO3() or group == WithReflection(SO3(), "inversion"):
        if group != SO3() and n % 2:
            raise ValueError(f"design_grid: n must be even for {group.name}, got {n}")
        top = max(psi.frequency for psi, _ in rep.irreps)
        if group == SO3():
            return _rotation_design(top, n, steps).clone()
        r = _rotation_design(top, n // 2, steps)
        return torch.cat([r, -r])
    return group.grid(n)


def _matrix_to_quaternion(r: Tensor) -> Tensor:
    """Rotation matrices ``[B, 3, 3]`` -> unit quaternions ``[B, 4]`` (w, x, y, z), largest-component branch."""
    m = r
    t = torch.stack([1 + m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2], 1 + m[:, 0, 0] - m[:, 1, 1] - m[:, 2, 2],
                     1 - m[:, 0, 0] + m[:, 1, 1] - m[:, 2, 2], 1 - m[:, 0, 0] - m[:, 1, 1] + m[:, 2, 2]], 1)
    best = t.argmax(1)
    w = torch.stack([t[:, 0], m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], 1)
    x = torch.stack([m[:, 2, 1] - m[:, 1, 2], t[:, 1], m[:, 0, 1] + m[:, 1, 0], m[:, 0, 2] + m[:, 2, 0]], 1)
    y = torch.stack([m[:, 0, 2] - m[:, 2, 0], m[:, 0, 1] + m[:, 1, 0], t[:, 2], m[:, 1, 2] + m[:, 2, 1]], 1)
    z = torch.stack([m[:, 1, 0] - m[:, 0, 1], m[:, 0, 2] + m[:, 2, 0], m[:, 1, 2] + m[:, 2, 1], t[:, 3]], 1)
    q = torch.stack([w, x, y, z], 1)[torch.arange(r.shape[0]), best]
    return q / q.norm(dim=-1, keepdim=True)


class GroupSampledGraph:
    """Samples of a group joined to their nearest neighbours.

    Args:
        group (Group): the group.
        elements (Tensor): ``[N, d, d]`` samples, or ``[B, N, d, d]``: ``B``
            translated copies of one base set (see :meth:`translate`).
        edge_index (Tensor): ``[2, E]`` edges (source, target) between sample indices.

    Build one with :meth:`uniform`, :meth:`random` or :meth:`design`; move it
    with the frames of a batch of features with :meth:`translate`.
    """

    def __init__(self, group: Group, elements: Tensor, edge_index: Tensor):
        if elements.dim() not in (3, 4) or elements.shape[-2:] != (group.d, group.d):
            raise ValueError(f"GroupSampledGraph: elements must be [N, {group.d}, {group.d}] or "
                             f"[B, N, {group.d}, {group.d}], got {list(elements.shape)}")
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"GroupSampledGraph: edge_index must be [2, E], got {list(edge_index.shape)}")
        self.group, self.elements, self.edge_index = group, elements, edge_index

    @classmethod
    def from_elements(cls, group: Group, elements: Tensor, k: int) -> GroupSampledGraph:
        """The ``k``-nearest-neighbour graph of explicit samples ``[N, d, d]``."""
        elements = group.check_elements(elements)
        return cls(group, elements, knn_group_edges(elements, k))

    @classmethod
    def uniform(cls, group: Group, n: int, k: int) -> GroupSampledGraph:
        """``group.grid(n)`` (all elements of a finite group)."""
        return cls.from_elements(group, group.grid(n), k)

    @classmethod
    def random(cls, group: Group, n: int, k: int, generator: torch.Generator | None = None) -> GroupSampledGraph:
        """``n`` Haar samples."""
        return cls.from_elements(group, group.sample(n, generator=generator), k)

    @classmethod
    def design(cls, rep: Rep, k: int, n: int | None = None) -> GroupSampledGraph:
        """:func:`design_grid` of ``rep``: the fewest samples with a well-conditioned Fourier transform."""
        return cls.from_elements(rep.group, design_grid(rep, n), k)

    @property
    def num_nodes(self) -> int:
        return self.elements.shape[-3]

    def relative_elements(self) -> Tensor:
        """``g_i^{-1} g_j`` on each edge ``j -> i``: ``[E, d, d]`` (``[B, E, d, d]`` when translated)."""
        src, dst = self.edge_index
        return self.elements[..., dst, :, :].transpose(-1, -2) @ self.elements[..., src, :, :]

    def translate(self, frames: Tensor) -> GroupSampledGraph:
        """The adaptive graphs ``U_b g_n`` for frames ``[B, d, d]``: same edges (left translation is an isometry)."""
        if self.elements.dim() != 3:
            raise ValueError("GroupSampledGraph.translate: the graph is already translated")
        frames = self.group.check_elements(frames, "frames")
        return GroupSampledGraph(self.group, frames[:, None] @ self.elements[None], self.edge_index)

    def sample(self, rep: Rep, coefficients: Tensor) -> Tensor:
        """Values of band-limited functions at the nodes: ``[..., rep.dim] -> [..., N]``.

        For a translated graph, ``coefficients`` is ``[B, ..., rep.dim]``, one function per copy.
        """
        if self.elements.dim() == 3:
            return coefficients @ sampling_matrix(rep, self.elements).to(coefficients).T
        b, n = self.elements.shape[:2]
        a = sampling_matrix(rep, self.elements.reshape(b * n, *self.elements.shape[2:])).reshape(b, n, -1)
        flat = coefficients.reshape(b, -1, rep.dim)
        return (flat @ a.to(coefficients).transpose(1, 2)).reshape(*coefficients.shape[:-1], n)

    def to_dict(self) -> dict[str, Tensor | int]:
        """The graph as tensors named as PyG's ``Data`` fields, e.g. ``Data(**graph.to_dict())``:
        ``elements`` ``[N, d, d]``, ``edge_index``, ``edge_attr`` = the flattened relative
        elements ``[E, d * d]`` and ``num_nodes``. A translated graph gives the disjoint union
        of its ``B`` copies (``B N`` nodes, ``B E`` edges) and a ``batch`` vector ``[B N]``."""
        rel = self.relative_elements().flatten(-2)
        if self.elements.dim() == 3:
            return {"elements": self.elements, "edge_index": self.edge_index, "edge_attr": rel,
                    "num_nodes": self.num_nodes}
        b, n = self.elements.shape[:2]
        offsets = torch.arange(b, device=self.edge_index.device).repeat_interleave(self.edge_index.shape[1]) * n
        return {"elements": self.elements.flatten(0, 1), "edge_index": self.edge_index.repeat(1, b) + offsets,
                "edge_attr": rel.flatten(0, 1), "batch": torch.arange(b, device=rel.device).repeat_interleave(n),
                "num_nodes": b * n}

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.elements.shape[:-2]))
        return f"GroupSampledGraph({self.group.name}, nodes={shape}, edges={self.edge_index.shape[1]})"
