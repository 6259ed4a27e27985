"""PyG ``InMemoryDataset`` classes, built offline."""
from topoequi.datasets.qm9 import QM9, TARGETS, qm9_split, target_index

__all__ = ["QM9", "TARGETS", "qm9_split", "target_index"]
