"""Complete models built from ``topoequi.nn`` and PyG baselines made dependency-free."""
from topoequi.models.dimenet import DimeNetPlusPlus, triplets
from topoequi.models.neural_lattice_reducer import NeuralLatticeReducer
from topoequi.models.relaxed_point_classifier import RelaxedPointClassifier
from topoequi.models.schnet import SchNet
from topoequi.models.sheaf_node_classifier import SheafNodeClassifier
from topoequi.models.steerable_molecule_net import SteerableMoleculeNet

__all__ = [
    "DimeNetPlusPlus", "NeuralLatticeReducer", "RelaxedPointClassifier", "SchNet", "SheafNodeClassifier",
    "SteerableMoleculeNet", "triplets",
]

from topoequi.models.steerable_image_cnn import SteerableImageCNN, export_plain, matching_plain_cnn

__all__ += ["SteerableImageCNN", "export_plain", "matching_plain_cnn"]

from topoequi.models.equivariant_mobilenet_v2 import EquivariantMobileNetV2
from topoequi.models.mobilenet_v2 import MobileNetV2, matching_plain_mobilenet_v2

__all__ += ["EquivariantMobileNetV2", "MobileNetV2", "matching_plain_mobilenet_v2"]

from topoequi.models.dgcnn import DGCNN
from topoequi.models.pointnet2 import PointNet2
from topoequi.models.steerable_point_classifier import SteerablePointClassifier

__all__ += ["DGCNN", "PointNet2", "SteerablePointClassifier"]

from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder, matching_plain_encoder
from topoequi.models.cryoem_reconstruction import AmortizedReconstruction, VoxelVolumeDecoder

__all__ += ["AmortizedReconstruction", "CryoPoseEncoder", "VoxelVolumeDecoder", "matching_plain_encoder"]
