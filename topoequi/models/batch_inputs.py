"""Call a model that takes tensors on the attributes of a PyG batch."""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


class BatchInputs(nn.Module):
    r"""``model(data[k_1], ..., data[k_n])`` for a PyG ``Data`` / ``Batch``, so that tensor-signature
    models (PyG's ``SchNet(z, pos, batch)``, ``GCN(x, edge_index)``) train through the same engine as the
    models that take a batch.

    Args:
        model (nn.Module): the wrapped model (its parameters keep the prefix ``model.``).
        keys (Sequence[str]): the attributes passed, in order.
        flatten (bool, optional): return ``out.view(-1)`` (one value per graph). (default: ``False``)
    """

    def __init__(self, model: nn.Module, keys: Sequence[str], flatten: bool = False) -> None:
        super().__init__()
        self.model, self.keys, self.flatten = model, tuple(keys), flatten

    def forward(self, data) -> Tensor:
        out = self.model(*(data[k] for k in self.keys))
        return out.view(-1) if self.flatten else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r}, keys={self.keys}, flatten={self.flatten})"
