"""PyG ``InMemoryDataset`` classes, built offline."""
from topoequi.datasets.node_classification import NODE_DATASETS, load_node_classification
from topoequi.datasets.qm9 import QM9, TARGETS, qm9_split, target_index

__all__ = ["NODE_DATASETS", "QM9", "TARGETS", "load_node_classification", "qm9_split", "target_index"]
