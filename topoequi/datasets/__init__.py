"""PyG ``InMemoryDataset`` classes and small embedded data, built offline."""
from topoequi.datasets.digits import load_digits, mixed_symmetry_digits
from topoequi.datasets.node_classification import NODE_DATASETS, load_node_classification
from topoequi.datasets.qm9 import QM9, TARGETS, qm9_split, target_index

__all__ = [
    "NODE_DATASETS", "QM9", "TARGETS", "load_digits", "load_node_classification", "mixed_symmetry_digits",
    "qm9_split", "target_index",
]

from topoequi.datasets.rotated_mnist import MNISTRot, RotatedMNIST, load_mnist_sample, rotate_images

__all__ += ["MNISTRot", "RotatedMNIST", "load_mnist_sample", "rotate_images"]

from topoequi.datasets.pcam import PCam, read_pcam

__all__ += ["PCam", "read_pcam"]

from topoequi.datasets.histology import IHCPatches, ihc_patches

__all__ += ["IHCPatches", "ihc_patches"]

from topoequi.datasets.modelnet import ModelNet, read_off
from topoequi.datasets.shapes import SHAPE_CLASSES, procedural_shapes

__all__ += ["SHAPE_CLASSES", "ModelNet", "procedural_shapes", "read_off"]
