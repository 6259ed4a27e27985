"""Mini-batches gathered on the device from a dataset that lives there.

PyG's ``DataLoader`` collates every batch on the CPU, one ``Data`` object at a
time, and copies it to the device: on a GPU that costs more than the step of
a small model. :class:`DeviceLoader` moves the concatenated tensors of an
``InMemoryDataset`` to the device once; a batch is then a handful of gathers
on the device. For graphs :math:`g_1, \\dots, g_B` with node counts
:math:`n_{g}` and node offsets :math:`o_{g}` in the stored tensors, the batch
holds the nodes :math:`o_{g_b} + j` (:math:`0 \\le j < n_{g_b}`) in order, and
an edge :math:`(u, v)` of :math:`g_b` (stored with graph-local indices)
becomes :math:`(u + p_b, v + p_b)` with :math:`p_b = \\sum_{c < b} n_{g_c}`:
exactly the ``Batch`` that PyG's collation builds, field for field. All sizes
are read from CPU copies of the counts, so a batch never waits for the device.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch


def _unwrap(dataset) -> tuple[object, Tensor]:
    """The ``InMemoryDataset`` under ``Subset`` views, and the indices of ``dataset`` in it."""
    from torch.utils.data import Subset

    index = None
    while isinstance(dataset, Subset):
        inner = torch.as_tensor(dataset.indices, dtype=torch.long)
        index = inner if index is None else inner[index]
        dataset = dataset.dataset
    if not hasattr(dataset, "slices") or not hasattr(dataset, "_data"):
        raise TypeError(f"DeviceLoader: expected an InMemoryDataset or a Subset of one, got {type(dataset).__name__}")
    if getattr(dataset, "_indices", None) is not None:  # an index_select view of the dataset
        own = torch.as_tensor(dataset._indices, dtype=torch.long)
        index = own if index is None else own[index]
    return dataset, index if index is not None else torch.arange(len(dataset))


class DeviceLoader:
    """Batches of ``dataset`` (an ``InMemoryDataset`` or ``Subset`` of one) gathered on ``device``.

    Args:
        dataset: the graphs; tensors of every node-, edge- or graph-level field are kept on the device.
        device: where the tensors live and the batches are built.

    Example::

        >>> loader = DeviceLoader(Subset(qm9, train_idx), "cuda")
        >>> batch = loader.batch([0, 5, 7])            # == Batch.from_data_list([...]).to("cuda")
        >>> for batch in loader.batches(order, 128): ...
    """

    def __init__(self, dataset, device: str | torch.device) -> None:
        base, self.index = _unwrap(dataset)
        self.device = torch.device(device)
        data, slices = base._data, base.slices
        self.node_keys = [k for k in ("x", "z", "pos") if isinstance(getattr(data, k, None), Tensor)]
        self.edge_keys = [k for k in ("edge_attr",) if isinstance(getattr(data, k, None), Tensor)]
        self.graph_keys = [k for k in ("y", "idx") if isinstance(getattr(data, k, None), Tensor)]
        node_key = self.node_keys[0]
        self.node_start = slices[node_key][:-1]
        self.node_count = slices[node_key][1:] - self.node_start
        self.has_edges = isinstance(getattr(data, "edge_index", None), Tensor)
        if self.has_edges:
            self.edge_start = slices["edge_index"][:-1]
            self.edge_count = slices["edge_index"][1:] - self.edge_start
        self.graph_slices = {k: slices[k] for k in self.graph_keys}
        self.tensors = {k: data[k].to(self.device) for k in self.node_keys + self.edge_keys + self.graph_keys}
        if self.has_edges:
            self.tensors["edge_index"] = data.edge_index.to(self.device)

    def __len__(self) -> int:
        return len(self.index)

    @staticmethod
    def nbytes(dataset) -> int:
        """Bytes the tensors of ``dataset`` take on a device (to decide whether they fit)."""
        base, _ = _unwrap(dataset)
        return sum(v.numel() * v.element_size() for v in base._data.to_dict().values() if isinstance(v, Tensor))

    def _ranges(self, start: Tensor, count: Tensor) -> tuple[Tensor, Tensor, int]:
        """Concatenated ``arange(start[b], start[b] + count[b])`` and its block ids, built on the device."""
        total = int(count.sum())
        block = torch.repeat_interleave(torch.arange(len(count)), count, output_size=total)
        first = torch.cumsum(count, 0) - count
        flat = start[block] + torch.arange(total) - first[block]
        return flat.to(self.device, non_blocking=True), block.to(self.device, non_blocking=True), total

    def batch(self, indices: Sequence[int] | Tensor) -> Batch:
        """The ``Batch`` of the graphs ``indices`` (positions in the dataset this loader was built on)."""
        graphs = self.index[torch.as_tensor(indices, dtype=torch.long)]
        counts = self.node_count[graphs]
        nodes, batch_vector, num_nodes = self._ranges(self.node_start[graphs], counts)
        out = {k: self.tensors[k][nodes] for k in self.node_keys}
        if self.has_edges:
            edges, edge_block, _ = self._ranges(self.edge_start[graphs], self.edge_count[graphs])
            offset = (torch.cumsum(counts, 0) - counts).to(self.device, non_blocking=True)
            out["edge_index"] = self.tensors["edge_index"][:, edges] + offset[edge_block]
            out.update({k: self.tensors[k][edges] for k in self.edge_keys})
        for k in self.graph_keys:
            rows, _, _ = self._ranges(self.graph_slices[k][:-1][graphs],
                                      self.graph_slices[k][1:][graphs] - self.graph_slices[k][:-1][graphs])
            out[k] = self.tensors[k][rows]
        ptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)]).to(self.device, non_blocking=True)
        batch = Batch(batch=batch_vector, ptr=ptr, num_nodes=num_nodes, **out)
        batch._num_graphs = len(graphs)
        return batch

    def batches(self, order: Sequence[int] | Tensor, batch_size: int) -> Iterator[Batch]:
        """Consecutive batches of ``batch_size`` graphs taken in ``order`` (the last one may be smaller)."""
        order = torch.as_tensor(order, dtype=torch.long)
        for start in range(0, len(order), batch_size):
            yield self.batch(order[start:start + batch_size])


def device_loader_or_none(dataset, device: str | torch.device, free_bytes: float | None = None,
                          fraction: float = 0.25) -> DeviceLoader | None:
    """A :class:`DeviceLoader` of ``dataset`` on ``device`` when its tensors take at most ``fraction`` of the
    free device memory, else ``None`` with a warning (the caller then builds batches with PyG's ``DataLoader``).

    ``free_bytes`` is the free memory of ``device`` (default: ``torch.cuda.mem_get_info`` on CUDA, unbounded
    elsewhere). Running out of memory while the tensors are copied also falls back, never crashes. A dataset
    that is not an ``InMemoryDataset`` (or a ``Subset`` of one) raises ``TypeError``, as :class:`DeviceLoader`.
    """
    device = torch.device(device)
    if not 0 < fraction <= 1:
        raise ValueError(f"device_loader_or_none: fraction must be in (0, 1], got {fraction!r}")
    size = DeviceLoader.nbytes(dataset)
    if free_bytes is None:
        free_bytes = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else math.inf
    if size > fraction * free_bytes:
        warnings.warn(f"DeviceLoader: the dataset takes {size / 2**30:.2f} GiB, more than {fraction:.0%} of the "
                      f"{free_bytes / 2**30:.2f} GiB free on {device}; batches are built by the DataLoader instead",
                      stacklevel=2)
        return None
    try:
        return DeviceLoader(dataset, device)
    except torch.OutOfMemoryError:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        warnings.warn(f"DeviceLoader: out of memory while copying the dataset ({size / 2**30:.2f} GiB) to {device}; "
                      "batches are built by the DataLoader instead", stacklevel=2)
        return None
