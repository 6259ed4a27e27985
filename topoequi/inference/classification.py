"""What the classifiers' predictions share: the most probable class and its softmax probability."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ClassPrediction:
    """One input's class ``label`` and its softmax ``probability`` (``size``: e.g. ``"64 points"``),
    or why there is none (``error``)."""

    name: str
    label: str | None
    probability: float | None
    size: str | None
    error: str | None = None

    def __str__(self) -> str:
        if self.error is not None:
            return f"{self.name}: failed: {self.error}"
        return f"{self.name} ({self.size}): {self.label} (p = {self.probability:.3f})"

    def row(self) -> dict:
        return {"name": self.name, "size": self.size, "label": self.label, "probability": self.probability,
                "error": self.error or ""}


def top_class(logits: torch.Tensor) -> list[tuple[int, float]]:
    r"""``[B, C]`` logits -> ``(argmax_c p_c, max_c p_c)`` per row, :math:`p = \mathrm{softmax}` in float64."""
    probability, label = torch.softmax(logits.double(), dim=-1).max(dim=-1)
    return list(zip(label.tolist(), probability.tolist()))
